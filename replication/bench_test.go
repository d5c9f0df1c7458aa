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
			testpoll.Until(b, 10*time.Second, "3 voters", func() bool { return len(tg.nodes[0].g.Voters(ctx)) == 3 })
			var lat latencies
			var next atomic.Int64
			var wg sync.WaitGroup
			value := make([]byte, 64)
			b.ResetTimer()
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					g := tg.nodes[w%3].g
					var ds []time.Duration
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							break
						}
						start := time.Now()
						if err := g.Save(ctx, "key-"+strconv.Itoa(int(i%100)), value); err != nil {
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
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			lat.report(b)
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
			var lat latencies
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for r := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					g := tg.nodes[r%3].g
					var ds []time.Duration
					for next.Add(1) <= int64(b.N) {
						start := time.Now()
						if _, err := g.Get(ctx, "flag", opts...); err != nil {
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
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
			lat.report(b)
		})
	}
}
