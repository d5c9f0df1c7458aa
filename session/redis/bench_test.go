package redis_test

import (
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
	"github.com/sessiongrid/sessiongrid/session/memory"
	redisstore "github.com/sessiongrid/sessiongrid/session/redis"
)

const benchSessions = 1_000

// benchStores returns the stores benchmarked side by side: redis-server
// over a unix socket (ModeScript) and an in-process gridnode over TCP
// (ModeGridnode), each loaded with benchSessions sessions of 14 keys.
func benchStores(b *testing.B) map[string]*redisstore.Store {
	b.Helper()
	srv := startRedis(b)
	stores := map[string]*redisstore.Store{
		"redis-server": newStore(b, srv, redisstore.Config{}),
		"gridnode":     newGridnodeStore(b, startGridnode(b, memory.Config{}), 3),
	}
	for _, s := range stores {
		storetest.FillSmall(b, s, benchSessions)
	}
	return stores
}

// benchEach runs bench over each of benchStores, in a sub-benchmark of its
// name.
func benchEach(b *testing.B, bench func(b *testing.B, s session.Store, n int)) {
	stores := benchStores(b)
	for _, name := range []string{"redis-server", "gridnode"} {
		b.Run(name, func(b *testing.B) { bench(b, stores[name], benchSessions) })
	}
}

func BenchmarkGet(b *testing.B)  { benchEach(b, storetest.BenchParallelGet) }
func BenchmarkSave(b *testing.B) { benchEach(b, storetest.BenchParallelSave) }
