package replication

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/testpoll"
)

// lanTiming gives benchmark grids Raft's LAN timing: the test profile's
// 200 ms leader lease is too tight for a 2-core machine under full load.
func lanTiming(_ int, c *GlobalsConfig) {
	d := DefaultGlobalsConfig()
	c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = d.HeartbeatTimeout, d.ElectionTimeout, d.LeaderLeaseTimeout
	c.SnapshotThreshold, c.TrailingLogs = d.SnapshotThreshold, d.TrailingLogs
}

// latencies collects per-operation latencies from parallel workers.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(ds []time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, ds...)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B) {
	if len(l.all) == 0 {
		return
	}
	slices.Sort(l.all)
	q := func(p float64) float64 {
		return float64(l.all[min(len(l.all)-1, int(p*float64(len(l.all))))].Nanoseconds()) / 1e6
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// runClients runs b.N calls of op from clients goroutines, client c bound
// to node c%3, each call given its number (1..b.N), and reports the calls
// per second as unit and the latency quantiles.
func runClients(b *testing.B, tg *testGrid, clients int, unit string, op func(g *Globals, i int64) error) {
	var lat latencies
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := tg.nodes[c%3].g
			var ds []time.Duration
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				start := time.Now()
				if err := op(g, i); err != nil {
					b.Error(err)
					return
				}
				ds = append(ds, time.Since(start))
			}
			lat.add(ds)
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
	lat.report(b)
}

// BenchmarkGlobalWrite measures global writes on a 3-node loopback grid with
// BoltDB logs on disk: each writer goroutine is bound to one node, so two
// thirds of the writes are forwarded to the leader. Raft batches concurrent
// writes into one log append and one round of AppendEntries.
//
//	go test -run=NONE -bench=Global -benchtime=3s ./replication/
func BenchmarkGlobalWrite(b *testing.B) {
	for _, writers := range []int{1, 16, 64} {
		b.Run("writers="+strconv.Itoa(writers), func(b *testing.B) {
			tg := newGrid(b, 3, 3, true, lanTiming)
			ctx := context.Background()
			tg.waitVoters(ctx, 3)
			value := make([]byte, 64)
			runClients(b, tg, writers, "writes/s", func(g *Globals, i int64) error {
				return g.Save(ctx, "key-"+strconv.Itoa(int(i%100)), value)
			})
		})
	}
}

// BenchmarkGlobalRead compares linearizable reads (leader check per read,
// forwarded from followers) with stale local reads, 16 readers spread over
// the 3 nodes.
func BenchmarkGlobalRead(b *testing.B) {
	for _, mode := range []string{"linearizable", "stale"} {
		b.Run(mode, func(b *testing.B) {
			tg := newGrid(b, 3, 3, false, lanTiming)
			ctx := context.Background()
			if err := tg.nodes[0].g.Save(ctx, "flag", []byte("on")); err != nil {
				b.Fatal(err)
			}
			testpoll.Until(b, 10*time.Second, "the value everywhere", func() bool {
				for _, gn := range tg.nodes {
					if _, err := gn.g.Get(ctx, "flag", Stale()); err != nil {
						return false
					}
				}
				return true
			})
			var opts []ReadOption
			if mode == "stale" {
				opts = append(opts, Stale())
			}
			runClients(b, tg, 16, "reads/s", func(g *Globals, _ int64) error {
				_, err := g.Get(ctx, "flag", opts...)
				return err
			})
		})
	}
}
