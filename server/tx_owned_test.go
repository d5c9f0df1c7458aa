package server

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestTxRunsOwnedCommands: read-modify-write and multi-key commands (which
// run alone on the node) queued in a transaction run under the
// transaction's gate; before the fix EXEC waited for itself forever.
func TestTxRunsOwnedCommands(t *testing.T) {
	n := startNode(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := n.client(t, 2)
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, "h", "f", 2)
		p.MSet(ctx, "a", "1", "b", "2")
		p.Rename(ctx, "a", "c")
		p.HSetNX(ctx, "h", "g", "1")
		p.ExpireNX(ctx, "b", time.Minute)
		p.Del(ctx, "b", "c")
		return nil
	})
	if err != nil {
		t.Fatalf("EXEC of owned commands: %v", err)
	}
	got := fmt.Sprintf("%v %v %v %v %v %v",
		cmds[0].(*redis.IntCmd).Val(), cmds[1].(*redis.StatusCmd).Val(), cmds[2].(*redis.StatusCmd).Val(),
		cmds[3].(*redis.BoolCmd).Val(), cmds[4].(*redis.BoolCmd).Val(), cmds[5].(*redis.IntCmd).Val())
	if want := "2 OK OK true true 2"; got != want {
		t.Fatalf("EXEC replies %q, want %q", got, want)
	}
}

// TestTxWatchSeesOwnedWrites: a write by a read-modify-write or multi-key
// command of another client aborts the transaction that watched the key.
func TestTxWatchSeesOwnedWrites(t *testing.T) {
	n := startNode(t, Config{})
	ctx := context.Background()
	a, b := n.client(t, 2), n.client(t, 2)
	for name, write := range map[string]func() error{
		"HINCRBY": func() error { return b.HIncrBy(ctx, "w", "f", 1).Err() },
		"HSETNX":  func() error { return b.HSetNX(ctx, "w", "new", 1).Err() },
		"MSET":    func() error { return b.MSet(ctx, "w", "x", "other", "y").Err() },
		"RENAME":  func() error { return b.Rename(ctx, "other", "w").Err() },
	} {
		a.Del(ctx, "w", "other")
		a.HSet(ctx, "w", "f", 0)
		a.Set(ctx, "other", "o", 0)
		err := a.Watch(ctx, func(tx *redis.Tx) error {
			if err := write(); err != nil {
				return err
			}
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "marker", name, 0)
				return nil
			})
			return err
		}, "w")
		if !errors.Is(err, redis.TxFailedErr) {
			t.Errorf("%s by another client after WATCH: %v, want TxFailedErr", name, err)
		}
	}
}
