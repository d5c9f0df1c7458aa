package server

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
)

// BenchmarkTx measures a transaction (MULTI, INCR, HSET, EXEC) and a
// WATCH round (WATCH, GET, MULTI, SET, EXEC) on gridnode and on a real
// redis-server side by side (unix socket for Redis, loopback TCP for
// gridnode: compare ratios within one run).
//
//	go test -run '^$' -bench BenchmarkTx -benchtime 2000x ./server/
func BenchmarkTx(b *testing.B) {
	n := startNode(b, Config{})
	sock := startRedisServer(b)
	targets := []struct {
		name string
		opt  *redis.Options
	}{
		{"gridnode", &redis.Options{Addr: n.addr, PoolSize: 1}},
		{"redis", &redis.Options{Network: "unix", Addr: sock, PoolSize: 1}},
	}
	ctx := context.Background()
	for _, tg := range targets {
		c := redis.NewClient(tg.opt)
		b.Cleanup(func() { c.Close() })
		b.Run("TxPipelined/"+tg.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Incr(ctx, "bench:n")
					p.HSet(ctx, "bench:h", "f", "v")
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("Watch/"+tg.name, func(b *testing.B) {
			for b.Loop() {
				if err := c.Watch(ctx, func(tx *redis.Tx) error {
					v, _ := tx.Get(ctx, "bench:w").Int()
					_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Set(ctx, "bench:w", v+1, 0)
						return nil
					})
					return err
				}, "bench:w"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
