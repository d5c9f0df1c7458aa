package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/sessiontest"
)

// Store is a durable store under test: the contract, a sweep on demand and
// an integrity check of everything it holds.
type Store interface {
	session.Store
	session.Sweeper
	// Check reads and verifies every record and returns how many it found.
	Check(ctx context.Context) (int, error)
}

// MustSave saves the key/value pairs kv into session id of s.
func MustSave(t testing.TB, s session.Store, id string, kv ...string) {
	t.Helper()
	var fields []session.Field
	for i := 0; i+1 < len(kv); i += 2 {
		fields = append(fields, session.Field{Key: kv[i], Value: []byte(kv[i+1])})
	}
	if _, err := s.Save(context.Background(), id, fields...); err != nil {
		t.Fatalf("Save(%.40q): %v", id, err)
	}
}

// MustGet checks that key of session id holds want.
func MustGet(t testing.TB, s session.Store, id, key, want string) {
	t.Helper()
	got, err := s.Get(context.Background(), id, key)
	if err != nil {
		t.Fatalf("Get(%.40q, %q): %v", id, key, err)
	}
	if string(got) != want {
		t.Fatalf("Get(%.40q, %q) = %q, want %q", id, key, got, want)
	}
}

// MustCheck runs s.Check and, when want >= 0, checks it found want records.
func MustCheck(t testing.TB, s Store, want int) {
	t.Helper()
	n, err := s.Check(context.Background())
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if want >= 0 && n != want {
		t.Fatalf("Check found %d records, want %d", n, want)
	}
}

// ClosedAndCancelled checks that s refuses a cancelled context, that Close
// is idempotent and that Get and Sweep after Close return
// session.ErrClosed. It closes s.
func ClosedAndCancelled(t *testing.T, s Store) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Save(ctx, "a", session.Field{Key: "k", Value: nil}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Save with a cancelled ctx: %v", err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Get(context.Background(), "a", "k"); !errors.Is(err, session.ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	if _, err := s.Sweep(context.Background()); !errors.Is(err, session.ErrClosed) {
		t.Fatalf("Sweep after Close: %v", err)
	}
}

// ConcurrentWriters checks that read-modify-write operations on one session
// ("shared") from many goroutines lose nothing: 8 writers each save 25 data
// keys and 25 props.
func ConcurrentWriters(t *testing.T, s session.Store) {
	t.Helper()
	ctx := context.Background()
	const writers, each = 8, 25
	runWriters(t, writers, each, func(key string, _ int) error {
		if _, err := s.Save(ctx, "shared", session.Field{Key: key, Value: []byte(key)}); err != nil {
			return err
		}
		return s.SaveProp(ctx, "shared", key, []byte(key))
	})
	all, err := s.GetAll(ctx, "shared")
	if err != nil || len(all) != writers*each {
		t.Fatalf("GetAll: %d keys, %v; want %d", len(all), err, writers*each)
	}
	props, err := s.Props(ctx, "shared")
	if err != nil || len(props) != writers*each {
		t.Fatalf("Props: %d keys, %v; want %d", len(props), err, writers*each)
	}
}

// ConcurrentPropsAndData checks that writers of different props and data
// keys of one session ("shared") at once lose nothing: 8 writers each make
// each writes, alternating a prop and a data key.
func ConcurrentPropsAndData(t *testing.T, s session.Store, each int) {
	t.Helper()
	ctx := context.Background()
	const writers = 8
	runWriters(t, writers, each, func(key string, i int) error {
		if i%2 == 0 {
			return s.SaveProp(ctx, "shared", key, []byte("v"))
		}
		_, err := s.Save(ctx, "shared", session.Field{Key: key, Value: []byte("v")})
		return err
	})
	props, _ := s.Props(ctx, "shared")
	data, _ := s.GetAll(ctx, "shared")
	if len(props)+len(data) != writers*each {
		t.Fatalf("%d props + %d data keys, want %d", len(props), len(data), writers*each)
	}
}

// runWriters runs writers goroutines that each call write each times, with
// the key "w<writer>-<i>" and i, and waits for them; an error fails t and
// stops that writer.
func runWriters(t *testing.T, writers, each int, write func(key string, i int) error) {
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := write(fmt.Sprintf("w%d-%d", w, i), i); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// Open returns the store that newStore (a backend's New) opens with cfg,
// each mod applied first, and closes it when t ends. It fails t when New
// fails.
func Open[C any, S session.Store](t testing.TB, newStore func(C) (S, error), cfg C, mods ...func(*C)) S {
	t.Helper()
	for _, m := range mods {
		m(&cfg)
	}
	s, err := newStore(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// PersistsAcrossReopen saves, into the store open returns on a fake clock:
// session u1 (data stage=menu and auth=tok, prop name=Ada, an idle
// override of 1 h and a TTL of 3 h), session u2 (no idle expiry) and the
// global motd=hi, then whatever more saves. It closes the store, moves the
// clock by advance (less than 1 h), reopens it and checks that all of that
// is back: u1's data and prop, u1's TTL of 1 h - advance (the override
// survived), u2's NoExpiry and the globals. It returns the reopened store
// and the clock, for the backend's own checks.
func PersistsAcrossReopen(t *testing.T, open func(now func() time.Time) Store, advance time.Duration, more func(s Store)) (Store, *sessiontest.Clock) {
	t.Helper()
	clock := NewClock()
	ctx := context.Background()
	s := open(clock.Now)
	MustSave(t, s, "u1", "stage", "menu", "auth", "tok")
	if err := s.SaveProp(ctx, "u1", "name", []byte("Ada")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetExpiry(ctx, "u1", session.Expiry{Idle: time.Hour, TTL: 3 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	MustSave(t, s, "u2", "stage", "start")
	if err := s.SetExpiry(ctx, "u2", session.Expiry{Idle: session.NoExpiry}); err != nil {
		t.Fatal(err)
	}
	if more != nil {
		more(s)
	}
	if err := s.SaveGlobal(ctx, "motd", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}

	clock.Advance(advance)
	s = open(clock.Now)
	MustGet(t, s, "u1", "stage", "menu")
	MustGet(t, s, "u1", "auth", "tok")
	if p, err := s.GetProp(ctx, "u1", "name"); err != nil || string(p) != "Ada" {
		t.Fatalf("GetProp = %q, %v", p, err)
	}
	if ttl, err := s.TTL(ctx, "u1"); err != nil || ttl != time.Hour-advance {
		t.Fatalf("TTL(u1) = %v, %v; want %v (the 1h idle override survives)", ttl, err, time.Hour-advance)
	}
	if ttl, err := s.TTL(ctx, "u2"); err != nil || ttl != session.NoExpiry {
		t.Fatalf("TTL(u2) = %v, %v; want NoExpiry", ttl, err)
	}
	if g, err := s.Globals(ctx); err != nil || len(g) != 1 || string(g["motd"]) != "hi" {
		t.Fatalf("Globals = %q, %v", g, err)
	}
	return s, clock
}

// MustHold checks, for each of ids, that key of that session holds
// present[id], or is missing (session.ErrNotFound) when id is not in
// present. Ids show in messages quoted, cut at 40 bytes.
func MustHold(t testing.TB, s session.Store, ids []string, key string, present map[string]string) {
	t.Helper()
	for _, id := range ids {
		v, err := s.Get(context.Background(), id, key)
		w, ok := present[id]
		switch {
		case ok && (err != nil || string(v) != w):
			t.Fatalf("Get(%.40q) = %q, %v; want %q", id, v, err, w)
		case !ok && !errors.Is(err, session.ErrNotFound):
			t.Fatalf("Get(%.40q) = %q, %v; want ErrNotFound", id, v, err)
		}
	}
}
