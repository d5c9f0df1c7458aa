package memory_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// clock is a fake clock for tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newStore(t *testing.T, cfg memory.Config) (*memory.Store, *clock) {
	t.Helper()
	c := &clock{now: time.Unix(1_700_000_000, 0)}
	if cfg.Now == nil {
		cfg.Now = c.Now
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = -1
	}
	s, err := memory.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s, c
}

func TestConfigValidate(t *testing.T) {
	for _, n := range []int{-1, 3, 100, 1 << 17} {
		if _, err := memory.New(memory.Config{Shards: n}); err == nil {
			t.Errorf("Shards=%d accepted", n)
		}
	}
	if _, err := memory.New(memory.Config{MaxValueSize: -1}); err == nil {
		t.Error("negative MaxValueSize accepted")
	}
}

func TestLargeSessionMovesToMap(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, memory.Config{})
	const n = 1000
	for i := 0; i < n; i++ {
		added, err := s.Save(ctx, "big", session.Field{Key: fmt.Sprint("k", i), Value: []byte(fmt.Sprint(i))})
		if err != nil || added != 1 {
			t.Fatalf("Save %d: added=%d err=%v", i, added, err)
		}
	}
	// overwrite half, evict a quarter
	for i := 0; i < n/2; i++ {
		if added, _ := s.Save(ctx, "big", session.Field{Key: fmt.Sprint("k", i), Value: []byte("x")}); added != 0 {
			t.Fatalf("overwrite %d counted as added", i)
		}
	}
	keys := make([]string, 0, n/4)
	for i := 0; i < n/4; i++ {
		keys = append(keys, fmt.Sprint("k", i))
	}
	if removed, _ := s.Evict(ctx, "big", keys...); removed != n/4 {
		t.Fatalf("Evict removed %d, want %d", removed, n/4)
	}
	all, err := s.GetAll(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n-n/4 {
		t.Fatalf("GetAll has %d keys, want %d", len(all), n-n/4)
	}
	for i := n / 4; i < n; i++ {
		want := fmt.Sprint(i)
		if i < n/2 {
			want = "x"
		}
		if got := string(all[fmt.Sprint("k", i)]); got != want {
			t.Fatalf("k%d = %q, want %q", i, got, want)
		}
	}
	if _, err := s.Clear(ctx, "big", "k999"); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.GetAll(ctx, "big"); len(all) != 1 || string(all["k999"]) != "999" {
		t.Fatalf("after Clear(retain k999): %v", all)
	}
}

func TestSaveDuplicateKeysLastWins(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, memory.Config{})
	added, err := s.Save(ctx, "u", session.Field{Key: "a", Value: []byte("1")}, session.Field{Key: "a", Value: []byte("2")})
	if err != nil || added != 1 {
		t.Fatalf("added=%d err=%v", added, err)
	}
	if v, _ := s.Get(ctx, "u", "a"); string(v) != "2" {
		t.Fatalf("a = %q, want 2", v)
	}
}

func TestStrings(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t, memory.Config{})

	res, err := s.SetString(ctx, "lock:u1", []byte("tok1"), session.SetOptions{Cond: session.SetIfNotExists, TTL: time.Second})
	if err != nil || !res.Applied {
		t.Fatalf("first NX: %+v %v", res, err)
	}
	res, _ = s.SetString(ctx, "lock:u1", []byte("tok2"), session.SetOptions{Cond: session.SetIfNotExists, TTL: time.Second})
	if res.Applied {
		t.Fatal("second NX applied while the lock is held")
	}
	if ok, _ := s.DeleteIf(ctx, "lock:u1", true, []byte("tok2")); ok {
		t.Fatal("DeleteIf IFEQ with the wrong token deleted")
	}
	c.Advance(1500 * time.Millisecond)
	res, _ = s.SetString(ctx, "lock:u1", []byte("tok2"), session.SetOptions{Cond: session.SetIfNotExists, TTL: time.Second})
	if !res.Applied {
		t.Fatal("NX after expiry not applied")
	}
	if ok, _ := s.DeleteIf(ctx, "lock:u1", true, []byte("tok1")); ok {
		t.Fatal("expired holder released the new holder's lock")
	}
	if ok, _ := s.DeleteIf(ctx, "lock:u1", true, []byte("tok2")); !ok {
		t.Fatal("holder could not release its lock")
	}

	// IFEQ, GET, KEEPTTL, XX.
	s.SetString(ctx, "k", []byte("v1"), session.SetOptions{TTL: 10 * time.Second})
	res, _ = s.SetString(ctx, "k", []byte("v2"), session.SetOptions{Cond: session.SetIfEqual, Match: []byte("nope"), Get: true})
	if res.Applied || string(res.Old) != "v1" {
		t.Fatalf("IFEQ mismatch: %+v", res)
	}
	res, _ = s.SetString(ctx, "k", []byte("v2"), session.SetOptions{Cond: session.SetIfEqual, Match: []byte("v1"), KeepTTL: true})
	if !res.Applied {
		t.Fatal("IFEQ match not applied")
	}
	if ttl, _ := s.TTL(ctx, "k"); ttl <= 0 || ttl > 10*time.Second {
		t.Fatalf("KEEPTTL lost the deadline: %v", ttl)
	}
	s.SetString(ctx, "k", []byte("v3"), session.SetOptions{})
	if ttl, _ := s.TTL(ctx, "k"); ttl != session.NoExpiry {
		t.Fatalf("plain SET kept a deadline: %v", ttl)
	}
	if res, _ := s.SetString(ctx, "missing", []byte("x"), session.SetOptions{Cond: session.SetIfExists}); res.Applied {
		t.Fatal("XX applied on a missing key")
	}

	// One key, one kind.
	s.Save(ctx, "sess", session.Field{Key: "a", Value: []byte("1")})
	if _, err := s.GetString(ctx, "sess"); !errors.Is(err, session.ErrWrongType) {
		t.Fatalf("GetString on a session: %v", err)
	}
	if _, err := s.Get(ctx, "k", "a"); !errors.Is(err, session.ErrWrongType) {
		t.Fatalf("Get on a string: %v", err)
	}
	if _, err := s.Save(ctx, "k", session.Field{Key: "a", Value: nil}); !errors.Is(err, session.ErrWrongType) {
		t.Fatalf("Save on a string: %v", err)
	}
	if _, err := s.SetString(ctx, "sess", []byte("x"), session.SetOptions{Get: true}); !errors.Is(err, session.ErrWrongType) {
		t.Fatalf("SET GET on a session: %v", err)
	}
	if res, err := s.SetString(ctx, "sess", []byte("x"), session.SetOptions{}); err != nil || !res.Applied {
		t.Fatalf("plain SET over a session: %+v %v", res, err)
	}
	if v, _ := s.GetString(ctx, "sess"); string(v) != "x" {
		t.Fatalf("SET over a session left %q", v)
	}
	if k, _ := s.KindOf(ctx, "sess"); k != session.KindString {
		t.Fatalf("kind %v", k)
	}
}

func TestKeyspaceScan(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, memory.Config{Shards: 8})
	want := map[string]bool{}
	for i := 0; i < 500; i++ {
		id := fmt.Sprint("user:", i)
		want[id] = true
		if i%2 == 0 {
			s.Save(ctx, id, session.Field{Key: "stage", Value: []byte("x")})
		} else {
			s.SetString(ctx, id, []byte("x"), session.SetOptions{})
		}
	}
	s.SetString(ctx, "other", []byte("x"), session.SetOptions{})
	got := map[string]int{}
	var cursor uint64
	for calls := 0; ; calls++ {
		if calls > 100 {
			t.Fatal("scan does not terminate")
		}
		next, keys, err := s.Scan(ctx, cursor, "user:*", 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			got[k]++
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	if len(got) != len(want) {
		t.Fatalf("scan found %d keys, want %d", len(got), len(want))
	}
	for k, n := range got {
		if !want[k] || n != 1 {
			t.Fatalf("key %q returned %d times (wanted: %v)", k, n, want[k])
		}
	}
	if n, _ := s.Len(ctx); n != 501 {
		t.Fatalf("Len = %d", n)
	}
	if n, _ := s.Delete(ctx, "user:0", "user:1", "nope"); n != 2 {
		t.Fatalf("Delete = %d", n)
	}
	if _, _, err := s.Scan(ctx, 1<<40, "", 10); err == nil {
		t.Fatal("bad cursor accepted")
	}
}

func TestSweepAndStats(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t, memory.Config{DefaultIdle: time.Minute})
	for i := 0; i < 100; i++ {
		s.Save(ctx, fmt.Sprint(i), session.Field{Key: "k", Value: bytes.Repeat([]byte("v"), 100)})
	}
	s.SetExpiry(ctx, "7", session.Expiry{Idle: session.NoExpiry})
	if st := s.Stats(); st.Sessions != 100 || st.Bytes < 100*100 {
		t.Fatalf("stats before: %+v", st)
	}
	c.Advance(2 * time.Minute)
	n, err := s.Sweep(ctx)
	if err != nil || n != 99 {
		t.Fatalf("Sweep removed %d (%v), want 99", n, err)
	}
	st := s.Stats()
	if st.Sessions != 1 || st.Expired != 99 {
		t.Fatalf("stats after: %+v", st)
	}
	if want := int64(len("7") + len("k") + 100 + 2); st.Bytes != want {
		t.Fatalf("bytes after sweep = %d, want %d", st.Bytes, want)
	}
}

func TestBackgroundSweep(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Unix(0, 0)
	s, _ := newStore(t, memory.Config{
		DefaultIdle:   time.Minute,
		SweepInterval: 10 * time.Millisecond,
		Now:           func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
	})
	s.Save(ctx, "a", session.Field{Key: "k", Value: []byte("v")})
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Sessions != 0 {
		if time.Now().After(deadline) {
			t.Fatal("background sweep never reclaimed the expired session")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	s, err := memory.New(memory.Config{SweepInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s.Close(ctx)
	s.Close(ctx)
	if _, err := s.Get(ctx, "a", "b"); !errors.Is(err, session.ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	if _, err := s.Globals(ctx); !errors.Is(err, session.ErrClosed) {
		t.Fatalf("Globals after Close: %v", err)
	}
}

func TestFetchAllOrderIndependent(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, memory.Config{})
	s.Save(ctx, "u", session.Field{Key: "b", Value: []byte("2")}, session.Field{Key: "a", Value: []byte("1")})
	s.Save(ctx, "u", session.Field{Key: "c", Value: []byte("3")})
	all, _ := s.GetAll(ctx, "u")
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if fmt.Sprint(keys) != "[a b c]" {
		t.Fatalf("keys %v", keys)
	}
}

// TestFastPathAllocations: the store's hot paths stay allocation-free —
// an overwrite with values of the same sizes writes in place (one field
// or five at once), Exists and a miss allocate nothing, Get allocates only
// the copy it returns. A failure here means garbage on every request of a
// loaded node.
func TestFastPathAllocations(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, memory.Config{})
	v := bytes.Repeat([]byte("v"), 100)
	one := []session.Field{{Key: "field:1", Value: v}}
	five := make([]session.Field, 5)
	for i := range five {
		five[i] = session.Field{Key: fmt.Sprint("field:", i+1), Value: v}
	}
	if _, err := s.Save(ctx, "session:000000000001", five...); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		fn   func()
		max  float64
	}{
		{"Save one field", func() { s.Save(ctx, "session:000000000001", one...) }, 0},
		{"Save five fields", func() { s.Save(ctx, "session:000000000001", five...) }, 0},
		{"Exists", func() { s.Exists(ctx, "session:000000000001", "field:3") }, 0},
		{"Get", func() { s.Get(ctx, "session:000000000001", "field:3") }, 1},
	} {
		if got := testing.AllocsPerRun(200, tc.fn); got > tc.max {
			t.Errorf("%s allocates %.1f times, want at most %.0f", tc.name, got, tc.max)
		}
	}
}

func TestMaxValueLimit(t *testing.T) {
	if _, err := memory.New(memory.Config{MaxValueSize: memory.MaxValueLimit + 1}); err == nil {
		t.Fatal("a MaxValueSize past MaxValueLimit was accepted")
	}
	s, err := memory.New(memory.Config{MaxValueSize: memory.MaxValueLimit, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	s.Close(context.Background())
}

// TestAppendValue: AppendValue answers as Get does, appending to the
// buffer it is given (HGET's path without a copy of its own).
func TestAppendValue(t *testing.T) {
	s, _ := newStore(t, memory.Config{})
	ctx := context.Background()
	if _, err := s.Save(ctx, "u1", session.Field{Key: "a", Value: []byte("hello")}, session.Field{Key: "e", Value: []byte{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetString(ctx, "str", []byte("x"), session.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	buf := []byte("pre:")
	got, err := s.AppendValue(buf, "u1", "a")
	if err != nil || string(got) != "pre:hello" {
		t.Fatalf("AppendValue = %q, %v; want pre:hello", got, err)
	}
	if got, err := s.AppendValue(buf[:0], "u1", "e"); err != nil || len(got) != 0 {
		t.Fatalf("empty value: %q, %v", got, err)
	}
	for _, tc := range []struct {
		id, key string
		want    error
	}{{"u1", "missing", session.ErrNotFound}, {"nobody", "a", session.ErrNotFound}, {"str", "a", session.ErrWrongType}, {"", "a", session.ErrInvalidID}} {
		got, err := s.AppendValue(buf, tc.id, tc.key)
		_, gerr := s.Get(ctx, tc.id, tc.key)
		if !errors.Is(err, tc.want) || !errors.Is(gerr, tc.want) || string(got) != "pre:" {
			t.Errorf("AppendValue(%q, %q) = %q, %v (Get: %v); want %v and the buffer unchanged", tc.id, tc.key, got, err, gerr, tc.want)
		}
	}
}
