package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
	redisstore "github.com/sessiongrid/sessiongrid/session/redis"
)

var prefixes atomic.Uint64

// newStore returns a store on srv under a prefix of its own, closed when t
// ends.
func newStore(t testing.TB, srv *redisServer, cfg redisstore.Config) *redisstore.Store {
	t.Helper()
	cfg.Network, cfg.Addr = "unix", srv.sock
	if cfg.Prefix == "" {
		cfg.Prefix = fmt.Sprintf("t%d:", prefixes.Add(1))
	}
	if cfg.Logger == nil {
		cfg.Logger = storetest.Logger(t)
	}
	return storetest.Open(t, redisstore.New, cfg)
}

func field(k, v string) session.Field { return session.Field{Key: k, Value: []byte(v)} }

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  redisstore.Config
		ok   bool
	}{
		{"default", redisstore.DefaultConfig(), true},
		{"gridnode", redisstore.DefaultGridnodeConfig(), true},
		{"no addr", redisstore.Config{}, false},
		{"bad network", redisstore.Config{Addr: "x", Network: "udp"}, false},
		{"bad mode", redisstore.Config{Addr: "x", Mode: 7}, false},
		{"negative idle", redisstore.Config{Addr: "x", DefaultIdle: -time.Second}, false},
		{"never idle", redisstore.Config{Addr: "x", DefaultIdle: session.NoExpiry}, true},
		{"gridnode idle", redisstore.Config{Addr: "x", Mode: redisstore.ModeGridnode, DefaultIdle: time.Minute}, false},
		{"gridnode touch", redisstore.Config{Addr: "x", Mode: redisstore.ModeGridnode, TouchOnRead: true}, false},
		{"negative value size", redisstore.Config{Addr: "x", MaxValueSize: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestLayout checks the keys and fields the store writes, and that no
// session id reaches the globals or another namespace.
func TestLayout(t *testing.T) {
	ctx := context.Background()
	srv := startRedis(t)
	raw := rawClient(t, srv)
	s := newStore(t, srv, redisstore.Config{Prefix: "app:", DefaultIdle: time.Minute})
	if _, err := s.Save(ctx, "global", field("stage", `"menu"`)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveProp(ctx, "global", "stage", []byte(`"prop"`)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveGlobal(ctx, "stage", []byte(`"global"`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(ctx, "g", field("x", "1")); err != nil {
		t.Fatal(err)
	}
	keys, err := raw.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"app:s:global": true, "app:s:g": true, "app:g": true}
	if len(keys) != len(want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	for _, k := range keys {
		if !want[k] {
			t.Fatalf("unexpected key %q among %v", k, keys)
		}
	}
	h, err := raw.HGetAll(ctx, "app:s:global").Result()
	if err != nil {
		t.Fatal(err)
	}
	if h["d:stage"] != `"menu"` || h["p:stage"] != `"prop"` || len(h) != 2 {
		t.Fatalf("session hash = %v", h)
	}
	if v, err := s.GetGlobal(ctx, "stage"); err != nil || string(v) != `"global"` {
		t.Fatalf("GetGlobal = %q, %v", v, err)
	}
	pttl, err := raw.PTTL(ctx, "app:s:global").Result()
	if err != nil || pttl <= 50*time.Second || pttl > time.Minute {
		t.Fatalf("PTTL of the session = %v, %v; want about 1m", pttl, err)
	}
	if pttl, _ := raw.PTTL(ctx, "app:g").Result(); pttl != -1 {
		t.Fatalf("PTTL of the globals = %v, want none (-1)", pttl)
	}
	if err := s.SetExpiry(ctx, "global", session.Expiry{Idle: session.NoExpiry, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	h, _ = raw.HGetAll(ctx, "app:s:global").Result()
	if h["m:i"] != "-1" || h["m:d"] == "" {
		t.Fatalf("metadata after SetExpiry: %v", h)
	}
	// Evicting the last data key and prop leaves no metadata-only hash.
	if _, err := s.Evict(ctx, "global", "stage"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.EvictProp(ctx, "global", "stage"); err != nil || !ok {
		t.Fatalf("EvictProp = %v, %v", ok, err)
	}
	if n, _ := raw.Exists(ctx, "app:s:global").Result(); n != 0 {
		h, _ := raw.HGetAll(ctx, "app:s:global").Result()
		t.Fatalf("empty session still stored: %v", h)
	}
}

// TestOneRoundTrip counts the commands each contract call sends: one.
func TestOneRoundTrip(t *testing.T) {
	for _, touch := range []bool{false, true} {
		t.Run(fmt.Sprintf("touch=%v", touch), func(t *testing.T) {
			ctx := context.Background()
			srv := startRedis(t)
			s := newStore(t, srv, redisstore.Config{TouchOnRead: touch})
			var n atomic.Int64
			redisstore.ClientOf(s).AddHook(countHook{&n})
			// New loaded the scripts: even the first call of each is one
			// EVALSHA, never a NOSCRIPT miss followed by EVAL.
			calls := []struct {
				name string
				fn   func() error
			}{
				{"Save", func() error { _, err := s.Save(ctx, "u", field("a", "1"), field("b", "2")); return err }},
				{"Get", func() error { _, err := s.Get(ctx, "u", "a"); return err }},
				{"GetAll", func() error { _, err := s.GetAll(ctx, "u"); return err }},
				{"Exists", func() error { _, err := s.Exists(ctx, "u", "a"); return err }},
				{"SaveProp", func() error { return s.SaveProp(ctx, "u", "p", []byte("1")) }},
				{"GetProp", func() error { _, err := s.GetProp(ctx, "u", "p"); return err }},
				{"Props", func() error { _, err := s.Props(ctx, "u"); return err }},
				{"SetExpiry", func() error { return s.SetExpiry(ctx, "u", session.Expiry{Idle: time.Hour, TTL: time.Hour}) }},
				{"TTL", func() error { _, err := s.TTL(ctx, "u"); return err }},
				{"Evict", func() error { _, err := s.Evict(ctx, "u", "b", "c"); return err }},
				{"ClearRetain", func() error { _, err := s.Clear(ctx, "u", "a"); return err }},
				{"EvictProp", func() error { _, err := s.EvictProp(ctx, "u", "p"); return err }},
				{"Clear", func() error { _, err := s.Clear(ctx, "u"); return err }},
				{"SaveGlobal", func() error { return s.SaveGlobal(ctx, "g", []byte("1")) }},
				{"GetGlobal", func() error { _, err := s.GetGlobal(ctx, "g"); return err }},
				{"Globals", func() error { _, err := s.Globals(ctx); return err }},
				{"EvictGlobal", func() error { _, err := s.EvictGlobal(ctx, "g"); return err }},
			}
			for _, c := range calls {
				before := n.Load()
				if err := c.fn(); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if got := n.Load() - before; got != 1 {
					t.Errorf("%s sent %d commands, want 1", c.name, got)
				}
			}
		})
	}
}

// countHook counts the commands a client sends.
type countHook struct{ n *atomic.Int64 }

func (h countHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h countHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h countHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// TestWritesSlideIdleDeadlineHolds checks real expiry on redis-server:
// writes slide the idle timeout, the absolute deadline still wins, and the
// per-session idle override is the one that slides.
func TestWritesSlideIdleDeadlineHolds(t *testing.T) {
	ctx := context.Background()
	srv := startRedis(t)
	s := newStore(t, srv, redisstore.Config{DefaultIdle: time.Hour})
	if _, err := s.Save(ctx, "u", field("a", "1")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetExpiry(ctx, "u", session.Expiry{Idle: 10 * time.Second, TTL: 400 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	ttl, err := s.TTL(ctx, "u")
	if err != nil || ttl > 400*time.Millisecond || ttl < 300*time.Millisecond {
		t.Fatalf("TTL after SetExpiry = %v, %v; want the 400ms deadline", ttl, err)
	}
	if err := s.SetExpiry(ctx, "u", session.Expiry{TTL: 0}); err != nil {
		t.Fatal(err)
	}
	// Idle kept (0 = keep): 10s, no deadline.
	if ttl, _ := s.TTL(ctx, "u"); ttl <= 9*time.Second || ttl > 10*time.Second {
		t.Fatalf("TTL after removing the deadline = %v; want the 10s idle override", ttl)
	}
	if err := s.SetExpiry(ctx, "u", session.Expiry{TTL: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for time.Since(start) < 200*time.Millisecond {
		if _, err := s.Save(ctx, "u", field("a", "2")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ttl, _ := s.TTL(ctx, "u"); ttl > 100*time.Millisecond {
		t.Fatalf("TTL = %v after 200ms of writes; the 300ms deadline must not slide", ttl)
	}
	poll(t, 2*time.Second, func() error {
		if _, err := s.Get(ctx, "u", "a"); !errors.Is(err, session.ErrNotFound) {
			return fmt.Errorf("Get past the deadline: %v", err)
		}
		return nil
	})
	// A new session has the default idle again: the override went with it.
	if _, err := s.Save(ctx, "u", field("b", "1")); err != nil {
		t.Fatal(err)
	}
	if ttl, _ := s.TTL(ctx, "u"); ttl < 59*time.Minute {
		t.Fatalf("TTL of the new session = %v, want the 1h default", ttl)
	}
}

// TestIdleSlidesOnWrite checks a short idle timeout on real time: writes
// keep the session alive past several timeouts, and it expires once they
// stop.
func TestIdleSlidesOnWrite(t *testing.T) {
	ctx := context.Background()
	srv := startRedis(t)
	s := newStore(t, srv, redisstore.Config{DefaultIdle: 150 * time.Millisecond})
	start := time.Now()
	for time.Since(start) < 500*time.Millisecond {
		if err := s.SaveProp(ctx, "u", "p", []byte("1")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := s.GetProp(ctx, "u", "p"); err != nil {
		t.Fatalf("GetProp after 500ms of writes with a 150ms idle: %v", err)
	}
	poll(t, 2*time.Second, func() error {
		if _, err := s.TTL(ctx, "u"); !errors.Is(err, session.ErrNotFound) {
			return fmt.Errorf("TTL after writes stopped: %v", err)
		}
		return nil
	})
}

func poll(t *testing.T, limit time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestConcurrentWritersOneSession runs writers of different props and data
// keys of one session at once: every write survives.
func TestConcurrentWritersOneSession(t *testing.T) {
	storetest.ConcurrentPropsAndData(t, newStore(t, startRedis(t), redisstore.Config{}), 50)
}

// TestLargeSave writes more fields than Lua can unpack at once, atomically.
func TestLargeSave(t *testing.T) {
	ctx := context.Background()
	srv := startRedis(t)
	s := newStore(t, srv, redisstore.Config{})
	const n = 12_000
	fields := make([]session.Field, n)
	keys := make([]string, n)
	for i := range fields {
		keys[i] = fmt.Sprintf("k%05d", i)
		fields[i] = field(keys[i], "v")
	}
	added, err := s.Save(ctx, "big", fields...)
	if err != nil || added != n {
		t.Fatalf("Save of %d fields = %d, %v", n, added, err)
	}
	if added, _ := s.Save(ctx, "big", fields[:10]...); added != 0 {
		t.Fatalf("Save of existing fields added %d", added)
	}
	removed, err := s.Evict(ctx, "big", keys...)
	if err != nil || removed != n {
		t.Fatalf("Evict of %d keys = %d, %v", n, removed, err)
	}
	if _, err := s.TTL(ctx, "big"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("TTL of the emptied session: %v", err)
	}
}

// TestWrongType checks a session key that holds a string (written by some
// other client) gives ErrWrongType.
func TestWrongType(t *testing.T) {
	ctx := context.Background()
	srv := startRedis(t)
	raw := rawClient(t, srv)
	s := newStore(t, srv, redisstore.Config{Prefix: "wt:"})
	if err := raw.Set(ctx, "wt:s:u", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(ctx, "u", field("a", "1")); !errors.Is(err, session.ErrWrongType) {
		t.Fatalf("Save on a string key: %v, want ErrWrongType", err)
	}
	if _, err := s.Get(ctx, "u", "a"); !errors.Is(err, session.ErrWrongType) {
		t.Fatalf("Get on a string key: %v, want ErrWrongType", err)
	}
}

// TestUnavailable checks the errors when the server is missing or dies.
func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	_, err := redisstore.New(redisstore.Config{
		Network: "unix", Addr: "/nonexistent/redis.sock", DialTimeout: time.Second, Logger: storetest.Logger(t),
	})
	if !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("New without a server: %v, want ErrUnavailable", err)
	}
	srv := startRedis(t)
	s := newStore(t, srv, redisstore.Config{DialTimeout: 200 * time.Millisecond})
	if _, err := s.Save(ctx, "u", field("a", "1")); err != nil {
		t.Fatal(err)
	}
	srv.stop()
	if _, err := s.Save(ctx, "u", field("a", "1")); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Save after the server died: %v, want ErrUnavailable", err)
	}
	if _, err := s.Get(ctx, "u", "a"); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Get after the server died: %v, want ErrUnavailable", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Get(cctx, "u", "a"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestClosed(t *testing.T) {
	ctx := context.Background()
	srv := startRedis(t)
	s := newStore(t, srv, redisstore.Config{})
	for range 2 {
		if err := s.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if _, err := s.Get(ctx, "u", "a"); !errors.Is(err, session.ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	if _, err := s.Globals(ctx); !errors.Is(err, session.ErrClosed) {
		t.Fatalf("Globals after Close: %v", err)
	}
}

// TestBinarySafe stores values and ids with every byte.
func TestBinarySafe(t *testing.T) {
	ctx := context.Background()
	srv := startRedis(t)
	s := newStore(t, srv, redisstore.Config{})
	var all []byte
	for i := range 256 {
		all = append(all, byte(i))
	}
	id := "id:" + string(all[1:]) + strings.Repeat("é", 3)
	if _, err := s.Save(ctx, id, session.Field{Key: string(all[1:]), Value: all}); err != nil {
		t.Fatal(err)
	}
	v, err := s.Get(ctx, id, string(all[1:]))
	if err != nil || string(v) != string(all) {
		t.Fatalf("Get = %q, %v", v, err)
	}
}

// TestScriptCacheFlushed checks that writes survive SCRIPT FLUSH (a restart
// or failover to a server that never saw the scripts): EVALSHA's NOSCRIPT
// falls back to EVAL.
func TestScriptCacheFlushed(t *testing.T) {
	ctx := context.Background()
	srv := startRedis(t)
	raw := rawClient(t, srv)
	s := newStore(t, srv, redisstore.Config{})
	if err := raw.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if added, err := s.Save(ctx, "u", field("a", "1")); err != nil || added != 1 {
		t.Fatalf("Save after SCRIPT FLUSH = %d, %v", added, err)
	}
	if v, err := s.Get(ctx, "u", "a"); err != nil || string(v) != "1" {
		t.Fatalf("Get = %q, %v", v, err)
	}
}
