package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
)

// BenchSessions is how many sessions Fill saves.
const BenchSessions = 1000

// BenchID returns the id of the i-th session Fill saved (i modulo
// BenchSessions).
func BenchID(i int) string { return fmt.Sprint("2637700", i%BenchSessions) }

// ChatbotSession returns the fields of a typical WCE session (WORKLOAD.md):
// 14 keys, about 4 KB, the message-id history being the largest.
func ChatbotSession() []session.Field {
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

// Fill saves BenchSessions chatbot sessions into s.
func Fill(b *testing.B, s session.Store) {
	b.Helper()
	fields := ChatbotSession()
	for i := range BenchSessions {
		if _, err := s.Save(context.Background(), BenchID(i), fields...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchGet reads one key of a 4 KB session among the BenchSessions of s
// (filled by Fill).
func BenchGet(b *testing.B, s session.Store) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := s.Get(ctx, BenchID(i), "stage"); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchSave writes one key of a 4 KB session among BenchSessions, in the
// subtests fsync=false and fsync=true; open returns the filled store, with
// fsync on or off.
func BenchSave(b *testing.B, open func(b *testing.B, fsync bool) session.Store) {
	for _, fsync := range []bool{false, true} {
		b.Run(fmt.Sprintf("fsync=%v", fsync), func(b *testing.B) {
			s := open(b, fsync)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				f := session.Field{Key: "stage", Value: []byte(fmt.Sprintf(`"STAGE-%d"`, i))}
				if _, err := s.Save(ctx, BenchID(i), f); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// SmallID returns the id of the i-th session FillSmall saved.
func SmallID(i int) string { return fmt.Sprintf("2637%08d", i) }

// FillSmall saves n sessions of 14 keys ("key0" to "key13") of 40 bytes
// into s, with the ids SmallID(0) to SmallID(n-1).
func FillSmall(b *testing.B, s session.Store, n int) {
	b.Helper()
	ctx := context.Background()
	value := make([]byte, 40)
	fields := make([]session.Field, 14)
	for k := range fields {
		fields[k] = session.Field{Key: fmt.Sprintf("key%d", k), Value: value}
	}
	for i := range n {
		if _, err := s.Save(ctx, SmallID(i), fields...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchParallelGet reads "key3" of the n sessions FillSmall saved, from
// b.RunParallel's goroutines.
func BenchParallelGet(b *testing.B, s session.Store, n int) {
	benchParallel(b, n, func(ctx context.Context, id string) error {
		_, err := s.Get(ctx, id, "key3")
		return err
	})
}

// BenchParallelSave writes the 40-byte key "stage" of the n sessions
// FillSmall saved, from b.RunParallel's goroutines.
func BenchParallelSave(b *testing.B, s session.Store, n int) {
	value := make([]byte, 40)
	benchParallel(b, n, func(ctx context.Context, id string) error {
		_, err := s.Save(ctx, id, session.Field{Key: "stage", Value: value})
		return err
	})
}

// benchParallel calls op on the sessions SmallID(i % n) in turn from
// b.RunParallel's goroutines, reporting allocations.
func benchParallel(b *testing.B, n int, op func(ctx context.Context, id string) error) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if err := op(ctx, SmallID(i%n)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
