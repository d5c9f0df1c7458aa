package cache_test

import (
	"testing"

	"github.com/sessiongrid/sessiongrid/session/cache"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
)

const benchSessions = 10_000

// benchStore returns a cache holding benchSessions sessions of 14 keys of
// 40 bytes (the chatbot workload's shape), bounded well above them.
func benchStore(b *testing.B) *cache.Store {
	b.Helper()
	s := storetest.Open(b, cache.New, cache.Config{MaxSessions: benchSessions * 2})
	storetest.FillSmall(b, s, benchSessions)
	return s
}

func BenchmarkGet(b *testing.B) {
	storetest.BenchParallelGet(b, benchStore(b), benchSessions)
}

func BenchmarkSave(b *testing.B) {
	storetest.BenchParallelSave(b, benchStore(b), benchSessions)
}
