package transport

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkCall measures request/response throughput over one multiplexed
// connection with concurrent callers (the writer batches their frames).
//
//	go test -run=NONE -bench=Call ./transport/
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
		})
	}
}
