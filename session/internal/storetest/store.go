package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
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
