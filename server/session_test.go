package server

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"
)

// asStringMap converts a map reply (RESP3 map or RESP2 flat array).
func asStringMap(t *testing.T, v any) map[string]string {
	t.Helper()
	out := map[string]string{}
	switch v := v.(type) {
	case map[any]any:
		for k, x := range v {
			out[k.(string)] = x.(string)
		}
	case []any:
		if len(v)%2 != 0 {
			t.Fatalf("flat map of odd length %d", len(v))
		}
		for i := 0; i < len(v); i += 2 {
			out[v[i].(string)] = v[i+1].(string)
		}
	default:
		t.Fatalf("not a map reply: %#v", v)
	}
	return out
}

func TestSessionCommands(t *testing.T) {
	n := startNode(t, Config{})
	n.eachProtocol(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		id := "sess:" + t.Name()

		if got, err := c.Do(ctx, "SESSION.PROPSET", id, "name", "Ada").Text(); err != nil || got != "OK" {
			t.Fatalf("PROPSET = %q, %v", got, err)
		}
		c.Do(ctx, "SESSION.PROPSET", id, "city", "Harare")
		if got, err := c.Do(ctx, "SESSION.PROPGET", id, "name").Text(); err != nil || got != "Ada" {
			t.Fatalf("PROPGET = %q, %v", got, err)
		}
		if _, err := c.Do(ctx, "SESSION.PROPGET", id, "nope").Result(); !errors.Is(err, redis.Nil) {
			t.Fatalf("PROPGET missing: err = %v", err)
		}
		props, err := c.Do(ctx, "SESSION.PROPS", id).Result()
		if err != nil {
			t.Fatal(err)
		}
		if c.Options().Protocol == 3 {
			if _, ok := props.(map[any]any); !ok {
				t.Fatalf("SESSION.PROPS in RESP3 is %T, want a map", props)
			}
		}
		if got := asStringMap(t, props); !mapsEqual(got, map[string]string{"name": "Ada", "city": "Harare"}) {
			t.Fatalf("SESSION.PROPS = %v", got)
		}
		// Props are not data keys.
		if got, err := c.HLen(ctx, id).Result(); err != nil || got != 0 {
			t.Fatalf("HLEN of a session with only props = %d, %v", got, err)
		}
		if got, err := c.Do(ctx, "SESSION.PROPDEL", id, "city").Int(); err != nil || got != 1 {
			t.Fatalf("PROPDEL = %d, %v", got, err)
		}
		if got, err := c.Do(ctx, "SESSION.PROPDEL", id, "city").Int(); err != nil || got != 0 {
			t.Fatalf("second PROPDEL = %d, %v", got, err)
		}

		// CLEAR with RETAIN keeps the named keys and the props.
		c.HSet(ctx, id, "stage", "s1", "auth", "tok", "history", "[]", "retry", "0")
		if got, err := c.Do(ctx, "SESSION.CLEAR", id, "RETAIN", "auth", "stage").Int(); err != nil || got != 1 {
			t.Fatalf("SESSION.CLEAR RETAIN = %d, %v", got, err)
		}
		if keys, err := c.HKeys(ctx, id).Result(); err != nil || !slices.Equal(keys, []string{"auth", "stage"}) {
			t.Fatalf("keys after CLEAR RETAIN = %v, %v", keys, err)
		}
		if got, err := c.Do(ctx, "SESSION.PROPGET", id, "name").Text(); err != nil || got != "Ada" {
			t.Fatalf("prop after CLEAR RETAIN = %q, %v", got, err)
		}
		// CLEAR without RETAIN removes everything.
		if got, err := c.Do(ctx, "SESSION.CLEAR", id).Int(); err != nil || got != 1 {
			t.Fatalf("SESSION.CLEAR = %d, %v", got, err)
		}
		if got, err := c.Exists(ctx, id).Result(); err != nil || got != 0 {
			t.Fatalf("EXISTS after CLEAR = %d, %v", got, err)
		}
		if got, err := c.Do(ctx, "SESSION.CLEAR", id).Int(); err != nil || got != 0 {
			t.Fatalf("SESSION.CLEAR missing = %d, %v", got, err)
		}
		if err := c.Do(ctx, "SESSION.CLEAR", id, "RETAIN").Err(); err == nil || err.Error() != "ERR syntax error" {
			t.Fatalf("SESSION.CLEAR RETAIN without keys: err = %v", err)
		}
		if props, err := c.Do(ctx, "SESSION.PROPS", id).Result(); err != nil || len(asStringMap(t, props)) != 0 {
			t.Fatalf("SESSION.PROPS missing = %v, %v", props, err)
		}

		// Globals: their own namespace.
		g := "g:" + t.Name()
		if got, err := c.Do(ctx, "GLOBAL.SET", g, "24h").Text(); err != nil || got != "OK" {
			t.Fatalf("GLOBAL.SET = %q, %v", got, err)
		}
		if got, err := c.Do(ctx, "GLOBAL.GET", g).Text(); err != nil || got != "24h" {
			t.Fatalf("GLOBAL.GET = %q, %v", got, err)
		}
		if got, err := c.Exists(ctx, g).Result(); err != nil || got != 0 {
			t.Fatalf("a global is visible as a key: EXISTS = %d, %v", got, err)
		}
		all, err := c.Do(ctx, "GLOBAL.ALL").Result()
		if err != nil || asStringMap(t, all)[g] != "24h" {
			t.Fatalf("GLOBAL.ALL = %v, %v", all, err)
		}
		keys, err := c.Do(ctx, "GLOBAL.KEYS").StringSlice()
		if err != nil || !slices.Contains(keys, g) {
			t.Fatalf("GLOBAL.KEYS = %v, %v", keys, err)
		}
		if got, err := c.Do(ctx, "GLOBAL.DEL", g).Int(); err != nil || got != 1 {
			t.Fatalf("GLOBAL.DEL = %d, %v", got, err)
		}
		if _, err := c.Do(ctx, "GLOBAL.GET", g).Result(); !errors.Is(err, redis.Nil) {
			t.Fatalf("GLOBAL.GET after DEL: err = %v", err)
		}
	})
}

func TestKeyspaceCommands(t *testing.T) {
	n := startNode(t, Config{})
	ctx := context.Background()
	c := n.client(t, 3)
	c.HSet(ctx, "user:1", "f", "v")
	c.HSet(ctx, "user:2", "f", "v")
	c.Set(ctx, "lock:user:1", "t", 0)
	c.Set(ctx, "other", "t", 0)
	c.Do(ctx, "GLOBAL.SET", "g", "v")

	if got, err := c.DBSize(ctx).Result(); err != nil || got != 4 {
		t.Fatalf("DBSIZE = %d, %v", got, err)
	}
	keys, err := c.Keys(ctx, "user:*").Result()
	slices.Sort(keys)
	if err != nil || !slices.Equal(keys, []string{"user:1", "user:2"}) {
		t.Fatalf("KEYS user:* = %v, %v", keys, err)
	}
	keys, err = c.Keys(ctx, "*user:[1]").Result()
	slices.Sort(keys)
	if err != nil || !slices.Equal(keys, []string{"lock:user:1", "user:1"}) {
		t.Fatalf("KEYS *user:[1] = %v, %v", keys, err)
	}
	var all []string
	var cursor uint64
	for {
		var batch []string
		batch, cursor, err = c.Scan(ctx, cursor, "*", 2).Result()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, batch...)
		if cursor == 0 {
			break
		}
	}
	slices.Sort(all)
	if !slices.Equal(all, []string{"lock:user:1", "other", "user:1", "user:2"}) {
		t.Fatalf("SCAN = %v", all)
	}
	strs, _, err := c.ScanType(ctx, 0, "", 1000, "string").Result()
	slices.Sort(strs)
	if err != nil || !slices.Equal(strs, []string{"lock:user:1", "other"}) {
		t.Fatalf("SCAN TYPE string = %v, %v", strs, err)
	}
	if err := c.Do(ctx, "SCAN", "abc").Err(); err == nil || err.Error() != "ERR invalid cursor" {
		t.Fatalf("SCAN abc: err = %v", err)
	}
	if got, err := c.Exists(ctx, "user:1", "other", "nope", "user:1").Result(); err != nil || got != 3 {
		t.Fatalf("EXISTS = %d, %v; want 3", got, err)
	}
	if got, err := c.Type(ctx, "nope").Result(); err != nil || got != "none" {
		t.Fatalf("TYPE missing = %q, %v", got, err)
	}
	if got, err := c.Del(ctx, "user:1", "other", "nope").Result(); err != nil || got != 2 {
		t.Fatalf("DEL = %d, %v", got, err)
	}
	if got, err := c.Unlink(ctx, "user:2").Result(); err != nil || got != 1 {
		t.Fatalf("UNLINK = %d, %v", got, err)
	}
	if err := c.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.DBSize(ctx).Result(); err != nil || got != 0 {
		t.Fatalf("DBSIZE after FLUSHDB = %d, %v", got, err)
	}
	if got, err := c.Do(ctx, "GLOBAL.GET", "g").Text(); err != nil || got != "v" {
		t.Fatalf("FLUSHDB removed a global: %q, %v", got, err)
	}
	c.Set(ctx, "x", "1", 0)
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.DBSize(ctx).Result(); err != nil || got != 0 {
		t.Fatalf("DBSIZE after FLUSHALL = %d, %v", got, err)
	}
	if _, err := c.Do(ctx, "GLOBAL.GET", "g").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("global after FLUSHALL: err = %v", err)
	}
}
