package bolt_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/bolt"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
)

// benchStore returns a store filled by storetest.Fill.
func benchStore(b *testing.B, fsync, batch bool) *bolt.Store {
	b.Helper()
	cfg := bolt.DefaultConfig()
	cfg.Path, cfg.NoSync = filepath.Join(b.TempDir(), "bench.db"), !fsync
	cfg.Batch, cfg.BatchDelay, cfg.SweepInterval = batch, time.Millisecond, -1
	s := storetest.Open(b, bolt.New, cfg)
	storetest.Fill(b, s)
	return s
}

// BenchmarkGet reads one key of a 4 KB session among 1,000.
func BenchmarkGet(b *testing.B) {
	storetest.BenchGet(b, benchStore(b, false, false))
}

// BenchmarkSave writes one key of a 4 KB session among 1,000 (a record
// rewrite in one transaction), with and without fsync.
func BenchmarkSave(b *testing.B) {
	storetest.BenchSave(b, func(b *testing.B, fsync bool) session.Store { return benchStore(b, fsync, false) })
}

// BenchmarkSaveParallel writes from 16 goroutines with fsync on, each
// commit alone or batched (Config.Batch).
func BenchmarkSaveParallel(b *testing.B) {
	for _, batch := range []bool{false, true} {
		b.Run(fmt.Sprintf("batch=%v", batch), func(b *testing.B) {
			s := benchStore(b, true, batch)
			ctx := context.Background()
			var n atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(8) // 16 goroutines on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					f := session.Field{Key: "stage", Value: []byte(fmt.Sprintf(`"STAGE-%d"`, i))}
					if _, err := s.Save(ctx, storetest.BenchID(int(i)), f); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
