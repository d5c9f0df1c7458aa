package server

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestHashes(t *testing.T) {
	n := startNode(t, Config{})
	n.eachProtocol(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		key := "user:" + t.Name()

		if got, err := c.HSet(ctx, key, "stage", "menu", "name", "Ada").Result(); err != nil || got != 2 {
			t.Fatalf("HSET new fields = %d, %v; want 2", got, err)
		}
		if got, err := c.HSet(ctx, key, "stage", "checkout", "lang", "en").Result(); err != nil || got != 1 {
			t.Fatalf("HSET one new field = %d, %v; want 1", got, err)
		}
		if got, err := c.HGet(ctx, key, "stage").Result(); err != nil || got != "checkout" {
			t.Fatalf("HGET = %q, %v", got, err)
		}
		if _, err := c.HGet(ctx, key, "missing").Result(); !errors.Is(err, redis.Nil) {
			t.Fatalf("HGET missing field: err = %v, want redis.Nil", err)
		}
		if _, err := c.HGet(ctx, "no-such-session", "stage").Result(); !errors.Is(err, redis.Nil) {
			t.Fatalf("HGET missing session: err = %v, want redis.Nil", err)
		}
		vals, err := c.HMGet(ctx, key, "name", "nope", "lang").Result()
		if err != nil || len(vals) != 3 || vals[0] != "Ada" || vals[1] != nil || vals[2] != "en" {
			t.Fatalf("HMGET = %#v, %v", vals, err)
		}
		vals, err = c.HMGet(ctx, key, "name").Result()
		if err != nil || len(vals) != 1 || vals[0] != "Ada" {
			t.Fatalf("HMGET one field = %#v, %v", vals, err)
		}
		all, err := c.HGetAll(ctx, key).Result()
		want := map[string]string{"stage": "checkout", "name": "Ada", "lang": "en"}
		if err != nil || !mapsEqual(all, want) {
			t.Fatalf("HGETALL = %v, %v; want %v", all, err, want)
		}
		if all, err := c.HGetAll(ctx, "no-such-session").Result(); err != nil || len(all) != 0 {
			t.Fatalf("HGETALL missing = %v, %v; want empty", all, err)
		}
		if got, err := c.HLen(ctx, key).Result(); err != nil || got != 3 {
			t.Fatalf("HLEN = %d, %v", got, err)
		}
		if got, err := c.HKeys(ctx, key).Result(); err != nil || !slices.Equal(got, []string{"lang", "name", "stage"}) {
			t.Fatalf("HKEYS = %v, %v", got, err)
		}
		if got, err := c.HVals(ctx, key).Result(); err != nil || !slices.Equal(got, []string{"en", "Ada", "checkout"}) {
			t.Fatalf("HVALS = %v, %v", got, err)
		}
		if got, err := c.HStrLen(ctx, key, "stage").Result(); err != nil || got != 8 {
			t.Fatalf("HSTRLEN = %d, %v", got, err)
		}
		if ok, err := c.HExists(ctx, key, "lang").Result(); err != nil || !ok {
			t.Fatalf("HEXISTS lang = %v, %v", ok, err)
		}
		if ok, err := c.HExists(ctx, key, "zzz").Result(); err != nil || ok {
			t.Fatalf("HEXISTS zzz = %v, %v", ok, err)
		}
		if got, err := c.HDel(ctx, key, "lang", "zzz").Result(); err != nil || got != 1 {
			t.Fatalf("HDEL = %d, %v; want 1", got, err)
		}
		if ok, err := c.HMSet(ctx, key, "a", "1", "b", "2").Result(); err != nil || !ok {
			t.Fatalf("HMSET = %v, %v", ok, err)
		}
		if got, err := c.Type(ctx, key).Result(); err != nil || got != "hash" {
			t.Fatalf("TYPE = %q, %v", got, err)
		}
		// Binary-safe values and fields.
		bin := "\x00\r\n\xff$*-+:"
		if _, err := c.HSet(ctx, key, bin, bin).Result(); err != nil {
			t.Fatal(err)
		}
		if got, err := c.HGet(ctx, key, bin).Result(); err != nil || got != bin {
			t.Fatalf("binary HGET = %q, %v", got, err)
		}
		// Removing every field removes the session.
		if _, err := c.HDel(ctx, key, "stage", "name", "a", "b", bin).Result(); err != nil {
			t.Fatal(err)
		}
		if got, err := c.Exists(ctx, key).Result(); err != nil || got != 0 {
			t.Fatalf("EXISTS after removing every field = %d, %v", got, err)
		}
		// Empty ids and keys are refused.
		if err := c.HSet(ctx, "", "f", "v").Err(); err == nil || !strings.HasPrefix(err.Error(), "INVALIDID") {
			t.Fatalf("HSET with an empty id: err = %v, want INVALIDID", err)
		}
		if err := c.HSet(ctx, key, "", "v").Err(); err == nil || !strings.HasPrefix(err.Error(), "INVALIDKEY") {
			t.Fatalf("HSET with an empty field: err = %v, want INVALIDKEY", err)
		}
	})
}

// TestHSetAtomic checks that the fields of one HSET are written in one
// step: readers see all of them or none.
func TestHSetAtomic(t *testing.T) {
	n := startNode(t, Config{})
	ctx := context.Background()
	w, r := n.client(t, 3), n.client(t, 2)
	done := make(chan error, 1)
	go func() {
		var err error
		for i := 0; i < 300 && err == nil; i++ {
			v := strings.Repeat(string(rune('a'+i%26)), 8)
			err = w.HSet(ctx, "atomic", "x", v, "y", v).Err()
		}
		done <- err
	}()
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			running = false
		default:
		}
		vals, err := r.HMGet(ctx, "atomic", "x", "y").Result()
		if err != nil {
			t.Fatal(err)
		}
		if vals[0] != vals[1] {
			t.Fatalf("HMGET saw a torn HSET: %v", vals)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
