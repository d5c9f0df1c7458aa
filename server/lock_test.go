package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/internal/testrun"
)

// TestLockUnderContention runs the chatbot engines' per-user lock (SET
// lock token NX PX to take it, DELEX lock IFEQ token to release it) from
// several clients guarding a read-modify-write of a shared counter: no
// increment may be lost, and a release with another token must fail.
func TestLockUnderContention(t *testing.T) {
	n := startNode(t, Config{})
	protocols(t, func(t *testing.T, proto int) {
		ctx := context.Background()
		const workers, rounds = 6, 40
		lock, counter := "lock:"+t.Name(), "counter:"+t.Name()
		testrun.Concurrently(t, workers, func(w int) error {
			return lockWorker(ctx, n.client(t, proto), lock, counter, fmt.Sprintf("token-%d", w), rounds)
		})
		c := n.client(t, proto)
		if got, err := c.Get(ctx, counter).Int(); err != nil || got != workers*rounds {
			t.Fatalf("counter = %d, %v; want %d (an increment was lost)", got, err, workers*rounds)
		}
		if got, err := c.Exists(ctx, lock).Result(); err != nil || got != 0 {
			t.Fatalf("lock still held at the end: EXISTS = %d, %v", got, err)
		}
	})
}

func lockWorker(ctx context.Context, c *redis.Client, lock, counter, token string, rounds int) error {
	for range rounds {
		deadline := time.Now().Add(30 * time.Second)
		for {
			ok, err := c.SetNX(ctx, lock, token, 10*time.Second).Result()
			if err != nil {
				return fmt.Errorf("SET NX PX: %w", err)
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				return errors.New("lock not acquired in 30s")
			}
		}
		// Another token must not release the lock we hold.
		if got, err := c.Do(ctx, "DELEX", lock, "IFEQ", token+"-other").Int(); err != nil || got != 0 {
			return fmt.Errorf("DELEX with a foreign token = %d, %v; want 0", got, err)
		}
		v, err := c.Get(ctx, counter).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		cur := 0
		if v != "" {
			if cur, err = strconv.Atoi(v); err != nil {
				return err
			}
		}
		if err := c.Set(ctx, counter, cur+1, 0).Err(); err != nil {
			return err
		}
		if got, err := c.Do(ctx, "DELEX", lock, "IFEQ", token).Int(); err != nil || got != 1 {
			return fmt.Errorf("DELEX IFEQ own token = %d, %v; want 1", got, err)
		}
	}
	return nil
}

func TestDelEx(t *testing.T) {
	n := startNode(t, Config{})
	ctx := context.Background()
	c := n.client(t, 3)
	c.Set(ctx, "k", "v", 0)
	if got, err := c.Do(ctx, "DELEX", "k", "IFNE", "v").Int(); err != nil || got != 0 {
		t.Fatalf("DELEX IFNE same = %d, %v", got, err)
	}
	if got, err := c.Do(ctx, "DELEX", "k", "IFNE", "other").Int(); err != nil || got != 1 {
		t.Fatalf("DELEX IFNE other = %d, %v", got, err)
	}
	if got, err := c.Do(ctx, "DELEX", "k", "IFEQ", "v").Int(); err != nil || got != 0 {
		t.Fatalf("DELEX missing = %d, %v", got, err)
	}
	c.Set(ctx, "k", "v", 0)
	if got, err := c.Do(ctx, "DELEX", "k").Int(); err != nil || got != 1 {
		t.Fatalf("DELEX without condition = %d, %v", got, err)
	}
	c.HSet(ctx, "h", "f", "v")
	if err := c.Do(ctx, "DELEX", "h", "IFEQ", "v").Err(); err == nil || err.Error() != msgWrongType {
		t.Fatalf("DELEX IFEQ on a session: err = %v, want WRONGTYPE", err)
	}
	if err := c.Do(ctx, "DELEX", "h", "IFXX", "v").Err(); err == nil || err.Error() != "ERR syntax error" {
		t.Fatalf("DELEX bad condition: err = %v", err)
	}
}
