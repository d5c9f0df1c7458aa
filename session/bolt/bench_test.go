package bolt_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/bolt"
)

// chatbotSession returns the fields of a typical WCE session (WORKLOAD.md):
// 14 keys, about 4 KB, the message-id history being the largest.
func chatbotSession() []session.Field {
	hist := make([]string, 60)
	for i := range hist {
		hist[i] = fmt.Sprintf(`"wamid.HBgMMjYzNzcxMjM0NTY3FQIAEhggQjk%04d"`, i)
	}
	kv := map[string]string{
		"stage": `"MAIN-MENU"`, "prev_stage": `"START-MENU"`, "last_activity": `"2026-01-02T03:04:05.123456"`,
		"debounce": `1767323045.123`, "last_msg_id": `"wamid.HBgMMjYzNzcxMjM0NTY3FQIAEhggQjkxRTE3"`,
		"msg_ids": "[" + strings.Join(hist, ",") + "]", "checkpoint": `"MAIN-MENU"`, "retry": `false`,
		"auth": `{"token":"` + strings.Repeat("t", 150) + `","role":"user"}`, "auth_expiry": `1767326645`,
		"name": `"Ada Lovelace"`, "number": `"263771234567"`, "lang": `"en"`, "flow": `"onboarding"`,
	}
	var fields []session.Field
	for k, v := range kv {
		fields = append(fields, session.Field{Key: k, Value: []byte(v)})
	}
	return fields
}

const benchSessions = 1000

func benchStore(b *testing.B, fsync, batch bool) *bolt.Store {
	b.Helper()
	cfg := bolt.DefaultConfig()
	cfg.Path = filepath.Join(b.TempDir(), "bench.db")
	cfg.NoSync = !fsync
	cfg.Batch, cfg.BatchDelay = batch, time.Millisecond
	cfg.SweepInterval = -1
	s, err := bolt.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close(context.Background()) })
	fields := chatbotSession()
	for i := range benchSessions {
		if _, err := s.Save(context.Background(), fmt.Sprint("2637700", i), fields...); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkGet reads one key of a 4 KB session among 1,000.
func BenchmarkGet(b *testing.B) {
	s := benchStore(b, false, false)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := s.Get(ctx, fmt.Sprint("2637700", i%benchSessions), "stage"); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSave writes one key of a 4 KB session among 1,000 (a record
// rewrite in one transaction), with and without fsync.
func BenchmarkSave(b *testing.B) {
	for _, fsync := range []bool{false, true} {
		b.Run(fmt.Sprintf("fsync=%v", fsync), func(b *testing.B) {
			s := benchStore(b, fsync, false)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				f := session.Field{Key: "stage", Value: []byte(fmt.Sprintf(`"STAGE-%d"`, i))}
				if _, err := s.Save(ctx, fmt.Sprint("2637700", i%benchSessions), f); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
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
					if _, err := s.Save(ctx, fmt.Sprint("2637700", i%benchSessions), f); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
