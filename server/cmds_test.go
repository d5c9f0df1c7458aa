package server

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/internal/testrun"
)

// The issue-13 command families through go-redis, redis-py and redis-cli.
// Replies and errors themselves are compared with Redis in
// redis_compare_test.go; these tests drive the commands as clients use them.

func TestHashCommandsGoRedis(t *testing.T) {
	eachProtocolNewNode(t, func(t *testing.T, n *testNode, c *redis.Client) {
		ctx := context.Background()
		if v, err := c.HIncrBy(ctx, "s", "turn", 1).Result(); err != nil || v != 1 {
			t.Fatalf("HINCRBY = %d, %v", v, err)
		}
		if v, err := c.HIncrByFloat(ctx, "s", "score", 2.5).Result(); err != nil || v != 2.5 {
			t.Fatalf("HINCRBYFLOAT = %v, %v", v, err)
		}
		if ok, err := c.HSetNX(ctx, "s", "stage", "intro").Result(); err != nil || !ok {
			t.Fatalf("HSETNX = %v, %v", ok, err)
		}
		if ok, err := c.HSetNX(ctx, "s", "stage", "other").Result(); err != nil || ok {
			t.Fatalf("second HSETNX = %v, %v", ok, err)
		}
		if v := c.HGet(ctx, "s", "stage").Val(); v != "intro" {
			t.Fatalf("stage = %q", v)
		}
		// HSCAN over a hash large enough to be paged: every field once.
		fields := map[string]any{}
		for i := range 300 {
			fields[fmt.Sprint("f", i)] = i
		}
		c.HSet(ctx, "big", fields)
		seen := map[string]string{}
		var cursor uint64
		for {
			kv, next, err := c.HScan(ctx, "big", cursor, "f1*", 50).Result()
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(kv); i += 2 {
				if _, dup := seen[kv[i]]; dup {
					t.Fatalf("HSCAN returned %s twice", kv[i])
				}
				seen[kv[i]] = kv[i+1]
			}
			if next == 0 {
				break
			}
			cursor = next
		}
		if len(seen) != 111 || seen["f123"] != "123" { // f1, f10-f19, f100-f199
			t.Fatalf("HSCAN MATCH f1* saw %d fields, f123=%q", len(seen), seen["f123"])
		}
		res, err := c.Do(ctx, "HSCAN", "s", "0", "NOVALUES").Slice()
		if err != nil || len(res) != 2 || len(res[1].([]any)) != 3 {
			t.Fatalf("HSCAN NOVALUES = %v, %v", res, err)
		}
		// HRANDFIELD: distinct fields for a positive count, repeats for a
		// negative one, pairs with WITHVALUES.
		got, err := c.HRandField(ctx, "big", 20).Result()
		if err != nil || len(got) != 20 || len(slices.Compact(slices.Sorted(slices.Values(got)))) != 20 {
			t.Fatalf("HRANDFIELD 20 = %v, %v", got, err)
		}
		got, err = c.HRandField(ctx, "s", -10).Result()
		if err != nil || len(got) != 10 {
			t.Fatalf("HRANDFIELD -10 = %v, %v", got, err)
		}
		kvs, err := c.HRandFieldWithValues(ctx, "big", 5).Result()
		if err != nil || len(kvs) != 5 {
			t.Fatalf("HRANDFIELD WITHVALUES = %v, %v", kvs, err)
		}
		for _, kv := range kvs {
			if kv.Key != "f"+kv.Value {
				t.Fatalf("HRANDFIELD pair %v", kv)
			}
		}
	})
}

func TestStringCommandsGoRedis(t *testing.T) {
	eachProtocolNewNode(t, func(t *testing.T, n *testNode, c *redis.Client) {
		ctx := context.Background()
		if v, err := c.IncrByFloat(ctx, "f", 0.1).Result(); err != nil || v != 0.1 {
			t.Fatalf("INCRBYFLOAT = %v, %v", v, err)
		}
		if v, _ := c.IncrByFloat(ctx, "f", 0.2).Result(); v != 0.3 { // long double: 0.3, not 0.30000000000000004
			t.Fatalf("INCRBYFLOAT 0.1+0.2 = %v", v)
		}
		if n, err := c.Append(ctx, "a", "ab").Result(); err != nil || n != 2 {
			t.Fatalf("APPEND = %d, %v", n, err)
		}
		c.Append(ctx, "a", "cd")
		if n := c.StrLen(ctx, "a").Val(); n != 4 {
			t.Fatalf("STRLEN = %d", n)
		}
		if v := c.GetRange(ctx, "a", 1, -2).Val(); v != "bc" {
			t.Fatalf("GETRANGE = %q", v)
		}
		if n := c.SetRange(ctx, "a", 6, "x").Val(); n != 7 || c.Get(ctx, "a").Val() != "abcd\x00\x00x" {
			t.Fatalf("SETRANGE = %d, %q", n, c.Get(ctx, "a").Val())
		}
		if v, err := c.GetDel(ctx, "a").Result(); err != nil || v != "abcd\x00\x00x" || c.Exists(ctx, "a").Val() != 0 {
			t.Fatalf("GETDEL = %q, %v", v, err)
		}
		c.Set(ctx, "e", "v", 0)
		if v, err := c.GetEx(ctx, "e", 100*time.Second).Result(); err != nil || v != "v" {
			t.Fatalf("GETEX = %q, %v", v, err)
		}
		if d := c.TTL(ctx, "e").Val(); d != 100*time.Second {
			t.Fatalf("TTL after GETEX EX 100 = %s", d)
		}
		if err := c.MSet(ctx, "m1", "1", "m2", "2").Err(); err != nil {
			t.Fatal(err)
		}
		if ok := c.MSetNX(ctx, "m2", "x", "m3", "3").Val(); ok || c.Exists(ctx, "m3").Val() != 0 {
			t.Fatal("MSETNX set keys although one existed")
		}
		if ok := c.MSetNX(ctx, "m3", "3", "m4", "4").Val(); !ok {
			t.Fatal("MSETNX refused new keys")
		}
		if v := c.MGet(ctx, "m1", "m2", "m3", "m4").Val(); fmt.Sprint(v) != "[1 2 3 4]" {
			t.Fatalf("MGET = %v", v)
		}
	})
}

func TestKeyCommandsGoRedis(t *testing.T) {
	eachProtocolNewNode(t, func(t *testing.T, n *testNode, c *redis.Client) {
		ctx := context.Background()
		c.Set(ctx, "k", "v", 0)
		if ok := c.ExpireNX(ctx, "k", time.Hour).Val(); !ok {
			t.Fatal("EXPIRE NX on a key without a deadline failed")
		}
		if ok := c.ExpireNX(ctx, "k", time.Minute).Val(); ok {
			t.Fatal("EXPIRE NX replaced a deadline")
		}
		if ok := c.ExpireGT(ctx, "k", time.Minute).Val(); ok {
			t.Fatal("EXPIRE GT shortened a deadline")
		}
		if ok := c.ExpireLT(ctx, "k", time.Minute).Val(); !ok || c.TTL(ctx, "k").Val() != time.Minute {
			t.Fatalf("EXPIRE LT: TTL %s", c.TTL(ctx, "k").Val())
		}
		// The fake clock: EXPIRETIME is now + 60 s.
		if at := c.ExpireTime(ctx, "k").Val(); at != time.Duration(n.clock.Now().Unix()+60)*time.Second {
			t.Fatalf("EXPIRETIME = %v", at)
		}
		at := n.clock.Now().Add(time.Hour).Truncate(time.Second)
		if ok := c.ExpireAt(ctx, "k", at).Val(); !ok || c.TTL(ctx, "k").Val() != time.Hour {
			t.Fatalf("EXPIREAT: TTL %s", c.TTL(ctx, "k").Val())
		}
		if ok := c.PExpireAt(ctx, "k", n.clock.Now().Add(-time.Second)).Val(); !ok || c.Exists(ctx, "k").Val() != 0 {
			t.Fatal("PEXPIREAT in the past did not delete the key")
		}
		// A session (hash with props) renamed and copied whole.
		c.HSet(ctx, "sess", "a", "1", "b", "2")
		c.Do(ctx, "SESSION.PROPSET", "sess", "channel", "web")
		if err := c.Rename(ctx, "sess", "sess2").Err(); err != nil {
			t.Fatal(err)
		}
		if c.Exists(ctx, "sess").Val() != 0 || c.HGet(ctx, "sess2", "b").Val() != "2" ||
			c.Do(ctx, "SESSION.PROPGET", "sess2", "channel").Val() != "web" {
			t.Fatal("RENAME did not move the session with its props")
		}
		if ok := c.Copy(ctx, "sess2", "sess3", 0, false).Val(); ok != 1 || c.HLen(ctx, "sess3").Val() != 2 {
			t.Fatal("COPY did not copy the session")
		}
		if ok := c.RenameNX(ctx, "sess2", "sess3").Val(); ok {
			t.Fatal("RENAMENX overwrote a key")
		}
		if n := c.Touch(ctx, "sess2", "sess3", "none").Val(); n != 2 {
			t.Fatalf("TOUCH = %d", n)
		}
		if k := c.RandomKey(ctx).Val(); k != "sess2" && k != "sess3" {
			t.Fatalf("RANDOMKEY = %q", k)
		}
		if enc := c.ObjectEncoding(ctx, "sess2").Val(); enc != "listpack" {
			t.Fatalf("OBJECT ENCODING = %q", enc)
		}
		if idle, err := c.ObjectIdleTime(ctx, "sess2").Result(); err != nil || idle < 0 {
			t.Fatalf("OBJECT IDLETIME = %v, %v", idle, err)
		}
		if m := c.MemoryUsage(ctx, "sess2").Val(); m < 60 {
			t.Fatalf("MEMORY USAGE = %d", m)
		}
	})
}

// TestOwnedCommandsAtomic: HINCRBY, HINCRBYFLOAT, APPEND and INCRBYFLOAT
// from many clients at once lose no update.
func TestOwnedCommandsAtomic(t *testing.T) {
	n := startNode(t, Config{})
	ctx := context.Background()
	const clients, rounds = 8, 200
	testrun.Concurrently(t, clients, func(i int) error {
		c := n.client(t, 2)
		for range rounds {
			p := c.Pipeline()
			p.HIncrBy(ctx, "h", "n", 1)
			p.HIncrByFloat(ctx, "h", "f", 0.5)
			p.Append(ctx, "log", strconv.Itoa(i%10))
			p.IncrByFloat(ctx, "fl", 1)
			p.HSet(ctx, "h", fmt.Sprint("c", i), "x") // a plain write in between
			if _, err := p.Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	c := n.client(t, 3)
	if v := c.HGet(ctx, "h", "n").Val(); v != strconv.Itoa(clients*rounds) {
		t.Fatalf("HINCRBY total = %s, want %d", v, clients*rounds)
	}
	if v := c.HGet(ctx, "h", "f").Val(); v != strconv.Itoa(clients*rounds/2) {
		t.Fatalf("HINCRBYFLOAT total = %s", v)
	}
	if v := c.StrLen(ctx, "log").Val(); v != clients*rounds {
		t.Fatalf("APPEND length = %d", v)
	}
	if v := c.Get(ctx, "fl").Val(); v != strconv.Itoa(clients*rounds) {
		t.Fatalf("INCRBYFLOAT total = %s", v)
	}
}

func TestUnsupportedTypes(t *testing.T) {
	n := startNode(t, Config{})
	c := n.client(t, 2)
	ctx := context.Background()
	for _, cmd := range [][]any{{"LPUSH", "l", "a"}, {"SADD", "s", "a"}, {"ZADD", "z", "1", "a"}, {"XADD", "x", "*", "f", "v"}, {"blpop", "l", "0"}} {
		err := c.Do(ctx, cmd...).Err()
		if err == nil || !strings.HasPrefix(err.Error(), "ERR unsupported data type: gridnode stores hashes (sessions) and strings only") ||
			!strings.Contains(err.Error(), strings.ToLower(cmd[0].(string))) {
			t.Errorf("%v: %v", cmd, err)
		}
	}
	if err := c.Do(ctx, "SELECT", "1").Err(); err == nil || !strings.Contains(err.Error(), "one database") {
		t.Errorf("SELECT 1: %v", err)
	}
	if err := c.Do(ctx, "NOSUCH").Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR unknown command 'NOSUCH'") {
		t.Errorf("NOSUCH: %v", err)
	}
}

func TestSlowlog(t *testing.T) {
	n := startNode(t, Config{SlowlogLogSlowerThan: time.Nanosecond, SlowlogMaxLen: 3})
	c := n.client(t, 2)
	ctx := context.Background()
	c.Do(ctx, "SLOWLOG", "RESET")
	c.Do(ctx, "CLIENT", "SETNAME", "me")
	long := strings.Repeat("x", 200)
	c.Set(ctx, "k", long, 0)
	args := []any{"DEL"}
	for i := range 40 {
		args = append(args, fmt.Sprint("k", i))
	}
	c.Do(ctx, args...)
	c.Do(ctx, "AUTH", "secret") // never recorded
	entries, err := c.SlowLogGet(ctx, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Fatalf("SLOWLOG GET -1: %d entries, want 3 (the max length)", len(entries))
	}
	del, set := entries[0], entries[1]
	if len(del.Args) != 32 || del.Args[31] != "... (10 more arguments)" || del.ClientName != "me" {
		t.Fatalf("DEL entry = %+v", del)
	}
	if set.Args[2] != strings.Repeat("x", 128)+"... (72 more bytes)" || set.ID >= del.ID {
		t.Fatalf("SET entry = %+v", set)
	}
	if del.ClientAddr == "" || del.Time.IsZero() {
		t.Fatalf("DEL entry = %+v", del)
	}
	if n := c.Do(ctx, "SLOWLOG", "LEN").Val(); n != int64(3) {
		t.Fatalf("SLOWLOG LEN = %v", n)
	}
	if got := c.Do(ctx, "CONFIG", "GET", "slowlog-*").Val(); fmt.Sprint(got) != "[slowlog-log-slower-than 0 slowlog-max-len 3]" {
		t.Fatalf("CONFIG GET slowlog-* = %v", got)
	}
	// The default threshold (10 ms) records nothing this fast.
	quiet := startNode(t, Config{})
	qc := quiet.client(t, 2)
	qc.Set(ctx, "k", "v", 0)
	if n := qc.Do(ctx, "SLOWLOG", "LEN").Val(); n != int64(0) {
		t.Fatalf("SLOWLOG LEN with the default threshold = %v", n)
	}
}

func TestCommandStatsAndKill(t *testing.T) {
	n := startNode(t, Config{})
	ctx := context.Background()
	c := n.client(t, 2)
	c.HIncrBy(ctx, "h", "f", 1)
	c.HIncrBy(ctx, "h", "f", 1)
	c.Do(ctx, "HINCRBY", "h", "f", "x")
	c.Do(ctx, "HINCRBY", "h")
	info := c.Info(ctx, "commandstats").Val()
	if !strings.Contains(info, "# Commandstats\r\n") ||
		!regexpMatch(info, `cmdstat_hincrby:calls=3,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=1`) {
		t.Fatalf("INFO commandstats = %q", info)
	}
	if strings.Contains(c.Info(ctx).Val(), "Commandstats") {
		t.Fatal("INFO (default) shows commandstats; Redis does not")
	}

	// CLIENT KILL ID closes the other connection; SKIPME yes spares the caller.
	victim, err := net.Dial("tcp", n.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	victim.Write([]byte("CLIENT ID\r\n"))
	buf := make([]byte, 64)
	nr, _ := victim.Read(buf)
	id := strings.TrimSpace(strings.TrimPrefix(string(buf[:nr]), ":"))
	if k := c.Do(ctx, "CLIENT", "KILL", "ID", id).Val(); k != int64(1) {
		t.Fatalf("CLIENT KILL ID %s = %v", id, k)
	}
	victim.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := victim.Read(buf); err == nil {
		t.Fatal("the killed connection is still open")
	}
	// The killed connection leaves the server's set when its goroutine
	// ends; until then LADDR below would match it too.
	waitFor(t, "the killed connection to go", func() bool { return len(n.srv.connections()) == 1 })
	laddr := c.Do(ctx, "CLIENT", "INFO").Val().(string)
	_, rest, _ := strings.Cut(laddr, " laddr=")
	laddr, _, _ = strings.Cut(rest, " ")
	if k := c.Do(ctx, "CLIENT", "KILL", "LADDR", laddr).Val(); k != int64(0) {
		t.Fatalf("CLIENT KILL LADDR with SKIPME yes = %v", k)
	}
	own := n.client(t, 2, func(o *redis.Options) { o.PoolSize = 1 })
	if k := own.Do(ctx, "CLIENT", "KILL", "LADDR", laddr, "SKIPME", "no").Val(); k != int64(2) {
		t.Fatalf("CLIENT KILL LADDR SKIPME no = %v (want both clients)", k)
	}
	waitFor(t, "the killed clients to go", func() bool { return len(n.srv.connections()) == 0 })
}

func TestWaitStandalone(t *testing.T) {
	n := startNode(t, Config{})
	c := n.client(t, 2)
	ctx := context.Background()
	c.Set(ctx, "k", "v", 0)
	if v, err := c.Wait(ctx, 0, 0).Result(); err != nil || v != 0 {
		t.Fatalf("WAIT 0 0 = %v, %v", v, err)
	}
	// Standalone, no backup can ever hold the write: 0 at once, even with
	// no timeout (Redis would block forever).
	if v, err := c.Wait(ctx, 1, 0).Result(); err != nil || v != 0 {
		t.Fatalf("WAIT 1 0 = %v, %v", v, err)
	}
}

func regexpMatch(s, pattern string) bool { return regexp.MustCompile(pattern).MatchString(s) }
