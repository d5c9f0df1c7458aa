package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/gridserver/gridtest"

	"github.com/redis/go-redis/v9"
)

// Transactions in a 3-member grid: through a member that does not own the
// key, WATCH included; CROSSSLOT refusals.

// ownedElsewhere returns n keys that member 0 does not own, all of one
// partition's owner, and that owner's index.
func ownedElsewhere(t *testing.T, g *gridtest.Grid, prefix string) (key string, owner int) {
	t.Helper()
	self := g.Nodes[0].Member.Node
	for i := 0; i < 10000; i++ {
		k := fmt.Sprint(prefix, i)
		o := self.Owner(k)
		if o == "" || o == self.Name() {
			continue
		}
		for j, n := range g.Nodes {
			if n.Member.Node.Name() == o {
				return k, j
			}
		}
	}
	t.Fatal("no key owned by another member")
	return "", 0
}

func redisClient(t *testing.T, g *gridtest.Grid, i, proto int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: g.Nodes[i].Addr, Protocol: proto, MaxRetries: -1, PoolSize: 2})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestGridTransactions(t *testing.T) {
	g := startGrid(t)
	ctx := context.Background()
	// Partitions move while the grid settles: wait until it is
	// cluster-safe (full backups, no migration), so that ownership holds
	// still during the test.
	deadline := time.Now().Add(60 * time.Second)
	for !g.Nodes[0].Member.Node.Safe(ctx).Safe {
		if time.Now().After(deadline) {
			t.Fatalf("grid not cluster-safe after 60 s: %+v", g.Nodes[0].Member.Node.Safe(ctx))
		}
		time.Sleep(20 * time.Millisecond)
	}
	key, owner := ownedElsewhere(t, g, "tx-")
	third := 3 - owner // the member that is neither 0 nor the owner
	if third == 0 || third == owner {
		t.Fatalf("owner %d", owner)
	}

	t.Run("TxPipelined through a non-owner", func(t *testing.T) {
		for _, proto := range []int{2, 3} {
			c := redisClient(t, g, 0, proto)
			cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, key, "1", 0)
				p.Incr(ctx, key)
				p.Get(ctx, key)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if v := cmds[2].(*redis.StringCmd).Val(); v != "2" || cmds[1].(*redis.IntCmd).Val() != 2 {
				t.Fatalf("RESP%d replies %v", proto, cmds)
			}
			if v := redisClient(t, g, owner, 2).Get(ctx, key).Val(); v != "2" {
				t.Fatalf("on the owner: %q", v)
			}
		}
	})

	t.Run("WATCH through a non-owner", func(t *testing.T) {
		c := redisClient(t, g, 0, 2)
		for _, writer := range []int{owner, third, 0} {
			w := redisClient(t, g, writer, 2)
			err := c.Watch(ctx, func(tx *redis.Tx) error {
				if err := w.Set(ctx, key, fmt.Sprint("by-", writer), 0).Err(); err != nil {
					return err
				}
				_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Set(ctx, key, "lost", 0)
					return nil
				})
				return err
			}, key)
			if !errors.Is(err, redis.TxFailedErr) {
				t.Fatalf("write through member %d after WATCH through member 0: EXEC err %v, want TxFailedErr", writer, err)
			}
			if v := c.Get(ctx, key).Val(); v != fmt.Sprint("by-", writer) {
				t.Fatalf("%s = %q after an aborted transaction", key, v)
			}
		}
		// Deleted by another member's client.
		err := c.Watch(ctx, func(tx *redis.Tx) error {
			redisClient(t, g, third, 2).Del(ctx, key)
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error { p.Set(ctx, key, "lost", 0); return nil })
			return err
		}, key)
		if !errors.Is(err, redis.TxFailedErr) {
			t.Fatalf("after a delete: %v", err)
		}
		// Unchanged: runs.
		err = c.Watch(ctx, func(tx *redis.Tx) error {
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error { p.Set(ctx, key, "mine", 0); return nil })
			return err
		}, key)
		if err != nil {
			t.Fatalf("unchanged key: %v", err)
		}
		if v := redisClient(t, g, owner, 2).Get(ctx, key).Val(); v != "mine" {
			t.Fatalf("on the owner: %q", v)
		}
	})

	t.Run("WATCH sees expiry on the owner", func(t *testing.T) {
		c := redisClient(t, g, 0, 3)
		if err := c.Set(ctx, key, "v", 200*time.Millisecond).Err(); err != nil {
			t.Fatal(err)
		}
		err := c.Watch(ctx, func(tx *redis.Tx) error {
			o := redisClient(t, g, owner, 2)
			deadline := time.Now().Add(10 * time.Second)
			for o.Exists(ctx, key).Val() != 0 { // wait for the expiry, not a fixed time
				if time.Now().After(deadline) {
					return errors.New("the key did not expire")
				}
				time.Sleep(10 * time.Millisecond)
			}
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error { p.Set(ctx, key, "lost", 0); return nil })
			return err
		}, key)
		if !errors.Is(err, redis.TxFailedErr) {
			t.Fatalf("after expiry: %v, want TxFailedErr", err)
		}
	})

	t.Run("no lost increment from clients of every member", func(t *testing.T) {
		counter, _ := ownedElsewhere(t, g, "txc-")
		const perClient = 15
		concurrently(t, 6, func(i int) error {
			c := redis.NewClient(&redis.Options{Addr: g.Nodes[i%3].Addr, Protocol: 2 + i%2, MaxRetries: -1, PoolSize: 1})
			defer c.Close()
			for range perClient {
				for {
					err := c.Watch(ctx, func(tx *redis.Tx) error {
						v, err := tx.Get(ctx, counter).Int()
						if err != nil && !errors.Is(err, redis.Nil) {
							return err
						}
						_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
							p.Set(ctx, counter, v+1, 0)
							return nil
						})
						return err
					}, counter)
					if err == nil {
						break
					}
					if !errors.Is(err, redis.TxFailedErr) {
						return err
					}
				}
			}
			return nil
		})
		if got, _ := redisClient(t, g, 0, 2).Get(ctx, counter).Int(); got != 6*perClient {
			t.Fatalf("counter = %d, want %d (lost increments)", got, 6*perClient)
		}
	})

	t.Run("CROSSSLOT", func(t *testing.T) {
		self := g.Nodes[0].Member.Node
		a, b := "cs-a", ""
		for i := 0; ; i++ {
			if k := fmt.Sprint("cs-b", i); self.Partition(k) != self.Partition(a) {
				b = k
				break
			}
		}
		c := redisClient(t, g, 0, 2)
		conn := c.Conn()
		defer conn.Close()
		do := func(args ...any) string {
			v, err := conn.Do(ctx, args...).Result()
			if err != nil {
				return err.Error()
			}
			return fmt.Sprint(v)
		}
		steps := []struct {
			args []any
			want string
		}{
			{[]any{"watch", a, b}, "CROSSSLOT Keys in request don't hash to the same slot"},
			{[]any{"multi"}, "OK"},
			{[]any{"set", a, "1"}, "QUEUED"},
			{[]any{"set", b, "1"}, "CROSSSLOT Keys in request don't hash to the same slot"},
			{[]any{"exec"}, "EXECABORT Transaction discarded because of previous errors."},
			{[]any{"get", a}, "redis: nil"},
			{[]any{"watch", a}, "OK"},
			{[]any{"watch", b}, "CROSSSLOT Keys in request don't hash to the same slot"},
			{[]any{"multi"}, "OK"},
			{[]any{"mget", a, b}, "CROSSSLOT Keys in request don't hash to the same slot"},
			{[]any{"discard"}, "OK"},
			{[]any{"multi"}, "OK"},
			{[]any{"keys", "*"}, "CROSSSLOT 'keys' reads or writes every partition: not allowed in a transaction in a grid"},
			{[]any{"exec"}, "EXECABORT Transaction discarded because of previous errors."},
			{[]any{"multi"}, "OK"},
			{[]any{"set", b, "2"}, "QUEUED"},
			{[]any{"exec"}, "[OK]"},
		}
		for _, s := range steps {
			if got := do(s.args...); got != s.want {
				t.Fatalf("%v: %q, want %q", s.args, got, s.want)
			}
		}
	})

	t.Run("errors through a non-owner", func(t *testing.T) {
		conn := redisClient(t, g, 0, 2).Conn()
		defer conn.Close()
		conn.Do(ctx, "multi")
		conn.Do(ctx, "set", key, "x")
		conn.Do(ctx, "incr", key)
		conn.Do(ctx, "get", key)
		v, err := conn.Do(ctx, "exec").Slice()
		if err != nil || len(v) != 3 || !strings.Contains(fmt.Sprint(v[1]), "not an integer") || v[2] != "x" {
			t.Fatalf("EXEC = %v, %v", v, err)
		}
	})
}
