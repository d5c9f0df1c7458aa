package server

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestStringsWithExpiry(t *testing.T) {
	n := startNode(t, Config{})
	n.eachProtocol(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		k := "str:" + t.Name()

		if err := c.Set(ctx, k, "v1", 10*time.Second).Err(); err != nil {
			t.Fatal(err)
		}
		if got, err := c.Get(ctx, k).Result(); err != nil || got != "v1" {
			t.Fatalf("GET = %q, %v", got, err)
		}
		if got, err := c.TTL(ctx, k).Result(); err != nil || got != 10*time.Second {
			t.Fatalf("TTL = %v, %v; want 10s", got, err)
		}
		n.clock.Advance(4 * time.Second)
		if got, err := c.PTTL(ctx, k).Result(); err != nil || got != 6*time.Second {
			t.Fatalf("PTTL = %v, %v; want 6s", got, err)
		}
		n.clock.Advance(6 * time.Second)
		if _, err := c.Get(ctx, k).Result(); !errors.Is(err, redis.Nil) {
			t.Fatalf("GET after expiry: err = %v, want redis.Nil", err)
		}
		if got, err := c.TTL(ctx, k).Result(); err != nil || got != -2 {
			t.Fatalf("TTL of an expired key = %v, %v; want -2", got, err)
		}

		// No expiry, then EXPIRE / PEXPIRE / PERSIST.
		if err := c.Set(ctx, k, "v2", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if got, err := c.TTL(ctx, k).Result(); err != nil || got != -1 {
			t.Fatalf("TTL without expiry = %v, %v; want -1", got, err)
		}
		if ok, err := c.Expire(ctx, k, 100*time.Second).Result(); err != nil || !ok {
			t.Fatalf("EXPIRE = %v, %v", ok, err)
		}
		if ok, err := c.PExpire(ctx, k, 1500*time.Millisecond).Result(); err != nil || !ok {
			t.Fatalf("PEXPIRE = %v, %v", ok, err)
		}
		if got, err := c.TTL(ctx, k).Result(); err != nil || got != 2*time.Second {
			t.Fatalf("TTL of 1.5s = %v, %v; want 2s (rounded as Redis)", got, err)
		}
		if ok, err := c.Persist(ctx, k).Result(); err != nil || !ok {
			t.Fatalf("PERSIST = %v, %v", ok, err)
		}
		if ok, err := c.Persist(ctx, k).Result(); err != nil || ok {
			t.Fatalf("second PERSIST = %v, %v; want false", ok, err)
		}
		n.clock.Advance(time.Hour)
		if got, err := c.Get(ctx, k).Result(); err != nil || got != "v2" {
			t.Fatalf("GET after PERSIST and an hour = %q, %v", got, err)
		}
		if ok, err := c.Expire(ctx, "missing", time.Second).Result(); err != nil || ok {
			t.Fatalf("EXPIRE missing = %v, %v; want false", ok, err)
		}
		if got, err := c.Do(ctx, "EXPIRE", k, 0).Int(); err != nil || got != 1 {
			t.Fatalf("EXPIRE 0 = %d, %v; want 1 (deleted)", got, err)
		}
		if got, err := c.Exists(ctx, k).Result(); err != nil || got != 0 {
			t.Fatalf("EXISTS after EXPIRE 0 = %d, %v", got, err)
		}

		// SET flags.
		if ok, err := c.SetNX(ctx, k, "a", 0).Result(); err != nil || !ok {
			t.Fatalf("SET NX on a missing key = %v, %v", ok, err)
		}
		if ok, err := c.SetNX(ctx, k, "b", 0).Result(); err != nil || ok {
			t.Fatalf("SET NX on an existing key = %v, %v; want false", ok, err)
		}
		if ok, err := c.SetXX(ctx, k+"-none", "b", 0).Result(); err != nil || ok {
			t.Fatalf("SET XX on a missing key = %v, %v", ok, err)
		}
		if err := c.Set(ctx, k, "c", 5*time.Second).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.SetArgs(ctx, k, "d", redis.SetArgs{KeepTTL: true}).Err(); err != nil {
			t.Fatal(err)
		}
		if got, err := c.TTL(ctx, k).Result(); err != nil || got != 5*time.Second {
			t.Fatalf("TTL after SET KEEPTTL = %v, %v; want 5s", got, err)
		}
		if old, err := c.SetArgs(ctx, k, "e", redis.SetArgs{Get: true}).Result(); err != nil || old != "d" {
			t.Fatalf("SET GET = %q, %v; want d", old, err)
		}
		if got, err := c.TTL(ctx, k).Result(); err != nil || got != -1 {
			t.Fatalf("TTL after a plain SET = %v, %v; want -1", got, err)
		}
		if _, err := c.Do(ctx, "SET", k, "f", "IFEQ", "wrong").Result(); !errors.Is(err, redis.Nil) {
			t.Fatalf("SET IFEQ with the wrong value: err = %v, want nil reply", err)
		}
		if got, err := c.Do(ctx, "SET", k, "f", "IFEQ", "e").Text(); err != nil || got != "OK" {
			t.Fatalf("SET IFEQ = %q, %v", got, err)
		}
		past := n.clock.Now().Add(-time.Second).Unix()
		if err := c.Do(ctx, "SET", k, "g", "EXAT", past).Err(); err != nil {
			t.Fatal(err)
		}
		if got, err := c.Exists(ctx, k).Result(); err != nil || got != 0 {
			t.Fatalf("EXISTS after SET EXAT in the past = %d, %v", got, err)
		}
		at := n.clock.Now().Add(30 * time.Second).UnixMilli()
		if err := c.Do(ctx, "SET", k, "h", "PXAT", at).Err(); err != nil {
			t.Fatal(err)
		}
		if got, err := c.TTL(ctx, k).Result(); err != nil || got != 30*time.Second {
			t.Fatalf("TTL after SET PXAT = %v, %v", got, err)
		}
		if err := c.SetEx(ctx, k, "i", 7*time.Second).Err(); err != nil {
			t.Fatal(err)
		}
		if got, err := c.TTL(ctx, k).Result(); err != nil || got != 7*time.Second {
			t.Fatalf("TTL after SETEX = %v, %v", got, err)
		}
		if err := c.Do(ctx, "PSETEX", k, 2500, "j").Err(); err != nil {
			t.Fatal(err)
		}
		if got, err := c.PTTL(ctx, k).Result(); err != nil || got != 2500*time.Millisecond {
			t.Fatalf("PTTL after PSETEX = %v, %v", got, err)
		}
		if got, err := c.Do(ctx, "SETNX", k, "k").Int(); err != nil || got != 0 {
			t.Fatalf("SETNX existing = %d, %v", got, err)
		}
		for _, bad := range [][]any{
			{"SET", k, "v", "NX", "XX"},
			{"SET", k, "v", "EX", 1, "PX", 1},
			{"SET", k, "v", "EX", 1, "KEEPTTL"},
			{"SET", k, "v", "IFEQ"},
			{"SET", k, "v", "BOGUS"},
		} {
			if err := c.Do(ctx, bad...).Err(); err == nil || err.Error() != "ERR syntax error" {
				t.Errorf("%v: err = %v, want ERR syntax error", bad, err)
			}
		}
		if err := c.Do(ctx, "SET", k, "v", "EX", 0).Err(); err == nil || !strings.Contains(err.Error(), "invalid expire time") {
			t.Errorf("SET EX 0: err = %v", err)
		}

		// Counters.
		ck := k + ":counter"
		if got, err := c.Incr(ctx, ck).Result(); err != nil || got != 1 {
			t.Fatalf("INCR new = %d, %v", got, err)
		}
		if got, err := c.IncrBy(ctx, ck, 41).Result(); err != nil || got != 42 {
			t.Fatalf("INCRBY = %d, %v", got, err)
		}
		if got, err := c.DecrBy(ctx, ck, 2).Result(); err != nil || got != 40 {
			t.Fatalf("DECRBY = %d, %v", got, err)
		}
		if got, err := c.Decr(ctx, ck).Result(); err != nil || got != 39 {
			t.Fatalf("DECR = %d, %v", got, err)
		}
		if err := c.Incr(ctx, k).Err(); err == nil || err.Error() != msgNotInteger {
			t.Fatalf("INCR of a non-integer: err = %v", err)
		}
		vals, err := c.MGet(ctx, ck, "missing", k).Result()
		if err != nil || len(vals) != 3 || vals[0] != "39" || vals[1] != nil || vals[2] != "j" {
			t.Fatalf("MGET = %#v, %v", vals, err)
		}
		if got, err := c.Type(ctx, ck).Result(); err != nil || got != "string" {
			t.Fatalf("TYPE = %q, %v", got, err)
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	n := startNode(t, Config{})
	ctx := context.Background()
	c := n.client(t, 3)
	if err := c.HSet(ctx, "s", "k", "v").Err(); err != nil {
		t.Fatal(err)
	}
	// A new session idles out after the store's default (30 minutes).
	if got, err := c.TTL(ctx, "s").Result(); err != nil || got != 30*time.Minute {
		t.Fatalf("TTL of a new session = %v, %v; want 30m", got, err)
	}
	n.clock.Advance(20 * time.Minute)
	if err := c.HSet(ctx, "s", "k2", "v").Err(); err != nil { // a write slides the idle timeout
		t.Fatal(err)
	}
	n.clock.Advance(20 * time.Minute)
	if got, err := c.HLen(ctx, "s").Result(); err != nil || got != 2 {
		t.Fatalf("HLEN 40 minutes in, 20 after a write = %d, %v; want 2", got, err)
	}
	n.clock.Advance(11 * time.Minute)
	if got, err := c.HGetAll(ctx, "s").Result(); err != nil || len(got) != 0 {
		t.Fatalf("HGETALL after idling out = %v, %v; want empty", got, err)
	}
	// SESSION.EXPIRY: idle 0 (keep), TTL 60 s.
	if err := c.HSet(ctx, "s", "k", "v").Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Do(ctx, "SESSION.EXPIRY", "s", 0, 60000).Int(); err != nil || got != 1 {
		t.Fatalf("SESSION.EXPIRY = %d, %v", got, err)
	}
	if got, err := c.TTL(ctx, "s").Result(); err != nil || got != time.Minute {
		t.Fatalf("TTL after SESSION.EXPIRY = %v, %v; want 1m", got, err)
	}
	// Idle never, no TTL: the session never expires.
	if got, err := c.Do(ctx, "SESSION.EXPIRY", "s", -1, 0).Int(); err != nil || got != 1 {
		t.Fatalf("SESSION.EXPIRY never = %d, %v", got, err)
	}
	if got, err := c.TTL(ctx, "s").Result(); err != nil || got != -1 {
		t.Fatalf("TTL of a session that never expires = %v, %v; want -1", got, err)
	}
	if got, err := c.Do(ctx, "SESSION.EXPIRY", "missing", 1000, 0).Int(); err != nil || got != 0 {
		t.Fatalf("SESSION.EXPIRY missing = %d, %v; want 0", got, err)
	}
	// EXPIRE on a session sets an absolute deadline.
	if ok, err := c.Expire(ctx, "s", 90*time.Second).Result(); err != nil || !ok {
		t.Fatalf("EXPIRE session = %v, %v", ok, err)
	}
	n.clock.Advance(91 * time.Second)
	if got, err := c.Exists(ctx, "s").Result(); err != nil || got != 0 {
		t.Fatalf("EXISTS after the session's deadline = %d, %v", got, err)
	}
}
