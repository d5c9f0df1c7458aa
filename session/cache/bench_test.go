package cache_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/cache"
)

const benchSessions = 10_000

// benchStore returns a cache holding benchSessions sessions of 14 keys of
// 40 bytes (the chatbot workload's shape), bounded well above them.
func benchStore(b *testing.B) *cache.Store {
	b.Helper()
	s, err := cache.New(cache.Config{MaxSessions: benchSessions * 2})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close(context.Background()) })
	ctx := context.Background()
	value := make([]byte, 40)
	fields := make([]session.Field, 14)
	for k := range fields {
		fields[k] = session.Field{Key: fmt.Sprintf("key%d", k), Value: value}
	}
	for i := range benchSessions {
		if _, err := s.Save(ctx, fmt.Sprintf("2637%08d", i), fields...); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

func BenchmarkGet(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			id := fmt.Sprintf("2637%08d", i%benchSessions)
			if _, err := s.Get(ctx, id, "key3"); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

func BenchmarkSave(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	value := make([]byte, 40)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			id := fmt.Sprintf("2637%08d", i%benchSessions)
			if _, err := s.Save(ctx, id, session.Field{Key: "stage", Value: value}); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
