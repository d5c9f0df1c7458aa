package cache_test

import (
	"context"
	"testing"

	"github.com/sessiongrid/sessiongrid/session/cache"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
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
	storetest.FillSmall(b, s, benchSessions)
	return s
}

func BenchmarkGet(b *testing.B) {
	storetest.BenchParallelGet(b, benchStore(b), benchSessions)
}

func BenchmarkSave(b *testing.B) {
	storetest.BenchParallelSave(b, benchStore(b), benchSessions)
}
