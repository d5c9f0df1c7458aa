package cache_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/cache"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
	"github.com/sessiongrid/sessiongrid/session/sessiontest"
)

func newStore(t *testing.T, cfg cache.Config) *cache.Store {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = storetest.Logger(t)
	}
	return storetest.Open(t, cache.New, cfg)
}

// newSessionU returns a store of at most 10 sessions on a fake clock, with
// the idle timeout idle and TouchOnRead touch, holding session u (a=1), and
// its clock.
func newSessionU(t *testing.T, idle time.Duration, touch bool) (*cache.Store, *sessiontest.Clock) {
	t.Helper()
	clk := storetest.NewClock()
	s := newStore(t, cache.Config{MaxSessions: 10, DefaultIdle: idle, TouchOnRead: touch, Now: clk.Now})
	storetest.MustSave(t, s, "u", "a", "1")
	return s, clk
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  cache.Config
		ok   bool
	}{
		{"default", cache.DefaultConfig(), true},
		{"bytes", cache.Config{MaxBytes: 1 << 20}, true},
		{"no bound", cache.Config{}, false},
		{"both bounds", cache.Config{MaxSessions: 10, MaxBytes: 10}, false},
		{"negative sessions", cache.Config{MaxSessions: -1}, false},
		{"negative bytes", cache.Config{MaxBytes: -1}, false},
		{"negative value size", cache.Config{MaxSessions: 1, MaxValueSize: -1}, false},
		{"never idle", cache.Config{MaxSessions: 1, DefaultIdle: session.NoExpiry}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			s, err := cache.New(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("New() error = %v, want ok=%v", err, tt.ok)
			}
			if s != nil {
				_ = s.Close(context.Background())
			}
		})
	}
}

// TestEvictionBoundsSessions inserts ten times the bound: the size stays
// bounded, every session that is gone is counted as an eviction, and an
// evicted session reads as missing.
func TestEvictionBoundsSessions(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, cache.Config{MaxSessions: 100})
	const n = 1000
	for i := range n {
		storetest.MustSave(t, s, fmt.Sprintf("user-%d", i), "stage", "menu", "name", "Ada")
		if i%50 == 0 {
			s.CleanUp()
			if got := s.Stats().Sessions; got > 100+50 {
				t.Fatalf("after %d inserts Sessions = %d, bound 100", i+1, got)
			}
		}
	}
	s.CleanUp()
	st := s.Stats()
	if st.Sessions > 100 {
		t.Fatalf("Sessions = %d, want <= 100", st.Sessions)
	}
	if st.Evictions != uint64(n-st.Sessions) {
		t.Fatalf("Evictions = %d, Sessions = %d: want Evictions = %d", st.Evictions, st.Sessions, n-st.Sessions)
	}
	if st.Expirations != 0 {
		t.Fatalf("Expirations = %d, want 0", st.Expirations)
	}
	live := 0
	for i := range n {
		id := fmt.Sprintf("user-%d", i)
		data, err := s.GetAll(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		switch len(data) {
		case 2:
			live++
		case 0:
			if _, err := s.Get(ctx, id, "stage"); !errors.Is(err, session.ErrNotFound) {
				t.Fatalf("Get of evicted %q: %v, want ErrNotFound", id, err)
			}
		default:
			t.Fatalf("session %q half present: %v", id, data)
		}
	}
	if live != st.Sessions {
		t.Fatalf("%d sessions readable, Stats says %d", live, st.Sessions)
	}
}

// TestEvictionBoundsBytes bounds the payload: it stays under MaxBytes, a
// session over the bound is refused, and Bytes returns to zero when every
// session is cleared.
func TestEvictionBoundsBytes(t *testing.T) {
	ctx := context.Background()
	const limit = 64 << 10
	s := newStore(t, cache.Config{MaxBytes: limit})
	value := make([]byte, 1000)
	for i := range 500 {
		if _, err := s.Save(ctx, fmt.Sprintf("u%03d", i), session.Field{Key: "history", Value: value}); err != nil {
			t.Fatal(err)
		}
	}
	s.CleanUp()
	st := s.Stats()
	if st.Bytes > limit {
		t.Fatalf("Bytes = %d, over MaxBytes %d", st.Bytes, limit)
	}
	if st.Evictions == 0 || st.Sessions == 0 {
		t.Fatalf("Stats = %+v, want evictions and some sessions left", st)
	}
	if want := int64(st.Sessions) * (4 + 7 + 1000); st.Bytes != want {
		t.Fatalf("Bytes = %d for %d sessions, want %d", st.Bytes, st.Sessions, want)
	}
	_, err := s.Save(ctx, "huge", session.Field{Key: "k", Value: make([]byte, limit)})
	if !errors.Is(err, session.ErrTooLarge) {
		t.Fatalf("Save of a session over MaxBytes: %v, want ErrTooLarge", err)
	}
	for i := range 500 {
		if _, err := s.Clear(ctx, fmt.Sprintf("u%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	s.CleanUp()
	if st := s.Stats(); st.Bytes != 0 || st.Sessions != 0 {
		t.Fatalf("after clearing everything: %+v, want no sessions and 0 bytes", st)
	}
}

// TestWritesRefreshIdle is the jawce Caffeine manager's bug: its timer was
// never refreshed by writes. Here every write slides the idle timeout.
func TestWritesRefreshIdle(t *testing.T) {
	ctx := context.Background()
	s, clk := newSessionU(t, time.Minute, false)
	for range 10 {
		clk.Advance(50 * time.Second)
		if err := s.SaveProp(ctx, "u", "p", []byte("1")); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := s.Get(ctx, "u", "a"); err != nil || string(v) != "1" {
		t.Fatalf("Get after 500s of writes every 50s with a 60s idle: %q, %v", v, err)
	}
	if ttl, err := s.TTL(ctx, "u"); err != nil || ttl != time.Minute {
		t.Fatalf("TTL right after a write = %v, %v; want 1m", ttl, err)
	}
	clk.Advance(time.Minute)
	if _, err := s.Get(ctx, "u", "a"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get one idle timeout after the last write: %v, want ErrNotFound", err)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	if st := s.Stats(); st.Expirations != 1 || st.Sessions != 0 || st.Bytes != 0 {
		t.Fatalf("Stats = %+v, want 1 expiration and nothing held", st)
	}
}

// TestExpiryIsExact checks that a session is invisible from the very
// nanosecond of its deadline, below otter's timer wheel resolution, and that
// Sweep reclaims it at once.
func TestExpiryIsExact(t *testing.T) {
	ctx := context.Background()
	s, clk := newSessionU(t, time.Hour, false)
	if err := s.SetExpiry(ctx, "u", session.Expiry{TTL: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10*time.Millisecond - 1)
	if _, err := s.Get(ctx, "u", "a"); err != nil {
		t.Fatalf("Get 1ns before the deadline: %v", err)
	}
	if n, _ := s.Sweep(ctx); n != 0 {
		t.Fatalf("Sweep before the deadline removed %d", n)
	}
	clk.Advance(1)
	if _, err := s.Get(ctx, "u", "a"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get at the deadline: %v, want ErrNotFound", err)
	}
	if n, _ := s.Sweep(ctx); n != 1 {
		t.Fatalf("Sweep at the deadline removed %d, want 1", n)
	}
	if st := s.Stats(); st.Sessions != 0 || st.Expirations != 1 {
		t.Fatalf("Stats = %+v", st)
	}
}

// TestDeadlineBeatsIdle checks the override: writes slide the idle timeout
// but never move the absolute deadline; a new idle timeout sticks.
func TestDeadlineBeatsIdle(t *testing.T) {
	ctx := context.Background()
	s, clk := newSessionU(t, time.Hour, false)
	if err := s.SetExpiry(ctx, "u", session.Expiry{Idle: time.Minute, TTL: 5 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		clk.Advance(59 * time.Second)
		storetest.MustSave(t, s, "u", "a", "2")
	}
	if ttl, _ := s.TTL(ctx, "u"); ttl != time.Minute {
		t.Fatalf("TTL = %v, want the overridden idle 1m", ttl)
	}
	clk.Advance(59 * time.Second) // 4m55s
	storetest.MustSave(t, s, "u", "a", "3")
	if ttl, _ := s.TTL(ctx, "u"); ttl != 5*time.Second {
		t.Fatalf("TTL = %v, want 5s left to the deadline", ttl)
	}
	clk.Advance(5 * time.Second)
	if _, err := s.TTL(ctx, "u"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("TTL at the deadline: %v, want ErrNotFound", err)
	}
	// A write after the deadline starts a new session with the default idle.
	storetest.MustSave(t, s, "u", "b", "1")
	if ttl, _ := s.TTL(ctx, "u"); ttl != time.Hour {
		t.Fatalf("TTL of the new session = %v, want 1h", ttl)
	}
	if data, _ := s.GetAll(ctx, "u"); len(data) != 1 {
		t.Fatalf("new session holds %v, want only b", data)
	}
}

// TestTouchOnRead checks that reads slide only when configured.
func TestTouchOnRead(t *testing.T) {
	for _, touch := range []bool{false, true} {
		t.Run(fmt.Sprint(touch), func(t *testing.T) {
			ctx := context.Background()
			s, clk := newSessionU(t, time.Minute, touch)
			for range 3 {
				clk.Advance(40 * time.Second)
				_, _ = s.Get(ctx, "u", "a")
			}
			_, err := s.Get(ctx, "u", "a")
			if touch && err != nil {
				t.Fatalf("reads every 40s with TouchOnRead: %v", err)
			}
			if !touch && !errors.Is(err, session.ErrNotFound) {
				t.Fatalf("reads without TouchOnRead slid the idle timeout: %v", err)
			}
		})
	}
}

// TestConcurrentPropsSurvive runs writers of different props of one session
// at once: every write survives (copy on write inside otter's Compute).
func TestConcurrentPropsSurvive(t *testing.T) {
	storetest.ConcurrentPropsAndData(t, newStore(t, cache.Config{MaxSessions: 100}), 200)
}

func TestStatsHitsMisses(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, cache.Config{MaxSessions: 10})
	storetest.MustSave(t, s, "u", "a", "1")
	_, _ = s.Get(ctx, "u", "a")
	_, _ = s.Get(ctx, "u", "missing-key") // the session is there: a hit
	_, _ = s.Get(ctx, "nobody", "a")
	if err := s.SaveGlobal(ctx, "g", []byte("1")); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Hits != 2 || st.Misses != 1 || st.Sessions != 1 || st.Globals != 1 || st.Bytes != 3 {
		t.Fatalf("Stats = %+v", st)
	}
}

// TestGlobalsNeverEvicted fills the cache far past its bound: globals stay,
// and a session named "global" is an ordinary session.
func TestGlobalsNeverEvicted(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, cache.Config{MaxSessions: 10})
	if err := s.SaveGlobal(ctx, "rates", []byte(`{"usd":1}`)); err != nil {
		t.Fatal(err)
	}
	storetest.MustSave(t, s, "global", "rates", "mine")
	for i := range 200 {
		storetest.MustSave(t, s, fmt.Sprint(i), "k", "v")
	}
	if v, err := s.GetGlobal(ctx, "rates"); err != nil || string(v) != `{"usd":1}` {
		t.Fatalf("GetGlobal after eviction pressure: %q, %v", v, err)
	}
}

func TestClosed(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, cache.Config{MaxSessions: 10})
	storetest.MustSave(t, s, "u", "a", "1")
	for range 2 {
		if err := s.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if _, err := s.Get(ctx, "u", "a"); !errors.Is(err, session.ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	if _, err := s.Sweep(ctx); !errors.Is(err, session.ErrClosed) {
		t.Fatalf("Sweep after Close: %v", err)
	}
}
