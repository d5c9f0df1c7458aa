package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/testpoll"
)

// BenchmarkDetectDeadMember measures the time from closing a member without
// a leave (a crash) to every other member of a 3-node grid declaring it
// dead, for the test profile and the LAN profile (on loopback).
//
//	go test -run=NONE -bench=DetectDeadMember -benchtime=5x ./cluster/
func BenchmarkDetectDeadMember(b *testing.B) {
	profiles := []struct {
		name string
		cfg  func() Config
	}{
		{"local", DefaultLocalConfig},
		{"lan", func() Config {
			c := DefaultLANConfig()
			c.BindAddr, c.BindPort = "127.0.0.1", 0
			return c
		}},
	}
	for _, p := range profiles {
		b.Run(p.name, func(b *testing.B) {
			var total time.Duration
			for i := range b.N {
				b.StopTimer()
				nodes := startGrid(b, 3, func(c *Config) {
					name := c.Name
					*c = p.cfg()
					c.Name = fmt.Sprintf("%s-%d", name, i)
					c.Logger = slog.New(slog.DiscardHandler)
				})
				b.StartTimer()
				killed := time.Now()
				_ = nodes[2].Close(context.Background())
				victim := nodes[2].Name()
				testpoll.Until(b, time.Minute, "detection", func() bool {
					return stateOf(nodes[0], victim) == StateDead && stateOf(nodes[1], victim) == StateDead
				})
				total += time.Since(killed)
				b.StopTimer()
				for _, n := range nodes[:2] {
					_ = n.Close(context.Background())
				}
			}
			lo, hi := p.cfg().DetectionBounds(3)
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "detect-ms")
			b.ReportMetric(float64(lo.Milliseconds()), "bound-lo-ms")
			b.ReportMetric(float64(hi.Milliseconds()), "bound-hi-ms")
		})
	}
}
