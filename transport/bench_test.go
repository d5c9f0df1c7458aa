package transport

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time so far.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCall measures request/response throughput over one multiplexed
// connection with concurrent callers (the writer batches their frames).
//
//	go test -run=NONE -bench=Call ./transport/
//
// It reports the CPU time per call of both ends (this process) too.
func BenchmarkCall(b *testing.B) {
	for _, callers := range []int{1, 16, 128} {
		b.Run("callers="+strconv.Itoa(callers), func(b *testing.B) {
			quiet := func(c *Config) { c.Logger = slog.New(slog.DiscardHandler) }
			srv, _ := newTransport(b, quiet)
			cli, _ := newTransport(b, quiet)
			srv.Handle(1, func(_ context.Context, req []byte) ([]byte, error) { return req, nil })
			payload := make([]byte, 128)
			if _, err := cli.Call(context.Background(), srv.Addr(), 1, payload); err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			cpu0 := cpuTime(b)
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						if _, err := cli.Call(context.Background(), srv.Addr(), 1, payload); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
			// CPU per call (both ends, this process) holds better than
			// throughput on a loaded machine.
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/call")
		})
	}
}
