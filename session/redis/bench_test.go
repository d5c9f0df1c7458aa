package redis_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
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
	ctx := context.Background()
	value := make([]byte, 40)
	fields := make([]session.Field, 14)
	for k := range fields {
		fields[k] = session.Field{Key: fmt.Sprintf("key%d", k), Value: value}
	}
	for _, s := range stores {
		for i := range benchSessions {
			if _, err := s.Save(ctx, fmt.Sprintf("2637%08d", i), fields...); err != nil {
				b.Fatal(err)
			}
		}
	}
	return stores
}

func BenchmarkGet(b *testing.B) {
	stores := benchStores(b)
	ctx := context.Background()
	for _, name := range []string{"redis-server", "gridnode"} {
		s := stores[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if _, err := s.Get(ctx, fmt.Sprintf("2637%08d", i%benchSessions), "key3"); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}

func BenchmarkSave(b *testing.B) {
	stores := benchStores(b)
	ctx := context.Background()
	value := make([]byte, 40)
	for _, name := range []string{"redis-server", "gridnode"} {
		s := stores[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
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
		})
	}
}
