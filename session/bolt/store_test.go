package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/bolt"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
)

// open opens the store at path with sync off and no background sweeper.
func open(t *testing.T, path string, mod ...func(*bolt.Config)) *bolt.Store {
	t.Helper()
	cfg := bolt.DefaultConfig()
	cfg.Path, cfg.NoSync, cfg.SweepInterval, cfg.Logger = path, true, -1, storetest.Logger(t)
	return storetest.Open(t, bolt.New, cfg, mod...)
}

func dbPath(t *testing.T) string { return filepath.Join(t.TempDir(), "sessions.db") }

func withNow(now func() time.Time) func(*bolt.Config) {
	return func(cfg *bolt.Config) { cfg.Now = now }
}

func TestIDsOfEveryShape(t *testing.T) {
	s := open(t, dbPath(t))
	ids := []string{
		"263771234567", "../../etc/passwd", "A", "a", "global", "globals", "nul\x00byte", "\xff\xfe",
		"用户 👋", "*", strings.Repeat("x", 512), strings.Repeat("x", 513),
		strings.Repeat("long", 1024),          // 4 KiB
		strings.Repeat("L", 40<<10),           // past bbolt's 32 KiB key limit
		strings.Repeat("L", session.MaxIDLen), // the longest id allowed
		"\x01" + strings.Repeat("x", 20),      // looks like a hashed key
	}
	for i, id := range ids {
		storetest.MustSave(t, s, id, "k", fmt.Sprint(i))
	}
	for i, id := range ids {
		storetest.MustGet(t, s, id, "k", fmt.Sprint(i))
	}
	ctx := context.Background()
	if err := s.SaveGlobal(ctx, "global", []byte("G")); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveGlobal(ctx, strings.Repeat("g", 40<<10), []byte("long")); err != nil {
		t.Fatal(err)
	}
	storetest.MustGet(t, s, "global", "k", "4")
	g, err := s.Globals(ctx)
	if err != nil || len(g) != 2 || string(g["global"]) != "G" || string(g[strings.Repeat("g", 40<<10)]) != "long" {
		t.Fatalf("Globals = %d entries, %v", len(g), err)
	}
	storetest.MustCheck(t, s, len(ids)+2)
	for _, id := range ids {
		if ok, err := s.Clear(ctx, id); !ok || err != nil {
			t.Fatalf("Clear(%.40q) = %v, %v", id, ok, err)
		}
	}
	storetest.MustCheck(t, s, 2)
}

func TestPersistsAcrossReopen(t *testing.T) {
	path := dbPath(t)
	ctx := context.Background()
	s, _ := storetest.PersistsAcrossReopen(t, func(now func() time.Time) storetest.Store {
		return open(t, path, withNow(now))
	}, 40*time.Minute, func(s storetest.Store) {
		storetest.MustSave(t, s, "u3", "stage", "gone-soon")
	})
	storetest.MustCheck(t, s, 4)
	if _, err := s.Get(ctx, "u3", "stage"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get(u3) after its idle timeout: %v", err)
	}
	// The index survived the restart: the sweep finds u3 without a scan.
	if n, err := s.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	storetest.MustCheck(t, s, 3)
}

func TestSecondOpenerRefused(t *testing.T) {
	path := dbPath(t)
	s := open(t, path)
	cfg := bolt.DefaultConfig()
	cfg.Path = path
	cfg.Timeout = 100 * time.Millisecond
	start := time.Now()
	_, err := bolt.New(cfg)
	if !errors.Is(err, bolt.ErrLocked) {
		t.Fatalf("second New: %v, want ErrLocked", err)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Errorf("gave up after %v, before the timeout", waited)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, path) // released by Close
	storetest.MustSave(t, s2, "a", "k", "v")
}

// corrupt rewrites the raw value of one bucket key with bbolt directly.
func corrupt(t *testing.T, path string, bucket, key string, damage func([]byte) []byte) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		v := b.Get([]byte(key))
		if v == nil {
			return fmt.Errorf("no key %q in %s", key, bucket)
		}
		return b.Put([]byte(key), damage(bytes.Clone(v)))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCorruptionIsReported(t *testing.T) {
	ctx := context.Background()
	for _, d := range storetest.Damages {
		t.Run(d.Name, func(t *testing.T) {
			path := dbPath(t)
			s := open(t, path)
			storetest.MustSave(t, s, "victim", "stage", "menu-with-some-length")
			storetest.MustSave(t, s, "bystander", "stage", "ok")
			if err := s.SaveGlobal(ctx, "g", []byte("global value")); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(ctx); err != nil {
				t.Fatal(err)
			}
			corrupt(t, path, "sessions", "\x00victim", d.Apply)
			corrupt(t, path, "globals", "\x00g", d.Apply)
			s = open(t, path)
			if _, err := s.Get(ctx, "victim", "stage"); !errors.Is(err, bolt.ErrCorrupt) {
				t.Errorf("Get: %v, want ErrCorrupt", err)
			}
			if _, err := s.Save(ctx, "victim", session.Field{Key: "k", Value: []byte("v")}); !errors.Is(err, bolt.ErrCorrupt) {
				t.Errorf("Save over a corrupt record: %v, want ErrCorrupt", err)
			}
			if _, err := s.GetGlobal(ctx, "g"); !errors.Is(err, bolt.ErrCorrupt) {
				t.Errorf("GetGlobal: %v, want ErrCorrupt", err)
			}
			if _, err := s.Globals(ctx); !errors.Is(err, bolt.ErrCorrupt) {
				t.Errorf("Globals: %v, want ErrCorrupt", err)
			}
			storetest.MustGet(t, s, "bystander", "stage", "ok")
			storetest.MustFindCorrupt(t, s, 1, bolt.ErrCorrupt, func() uint64 { return s.Stats().Corrupt })
		})
	}
}

func TestSweepUsesTheIndex(t *testing.T) {
	clock := storetest.NewClock()
	s := open(t, dbPath(t), withNow(clock.Now))
	ctx := context.Background()
	for i := range 3000 {
		storetest.MustSave(t, s, fmt.Sprint("old", i), "k", "v")
	}
	clock.Advance(20 * time.Minute)
	for i := range 5 {
		storetest.MustSave(t, s, fmt.Sprint("new", i), "k", "v")
	}
	// Moving the expiry moves the index entry.
	if err := s.SetExpiry(ctx, "old7", session.Expiry{Idle: session.NoExpiry}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetExpiry(ctx, "old8", session.Expiry{TTL: 5 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetExpiry(ctx, "new1", session.Expiry{TTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	storetest.MustCheck(t, s, 3005)
	clock.Advance(15 * time.Minute) // old: 35m idle; new: 15m; old8, new1 past their deadlines
	n, err := s.Sweep(ctx)
	if err != nil || n != 3000 {
		t.Fatalf("Sweep = %d, %v; want 3000 (more than one batch)", n, err)
	}
	storetest.MustGet(t, s, "old7", "k", "v")
	for _, id := range []string{"old8", "new1", "old0"} {
		if _, err := s.TTL(ctx, id); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("TTL(%s): %v, want ErrNotFound", id, err)
		}
	}
	storetest.MustCheck(t, s, 5)
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("second Sweep = %d, %v", n, err)
	}
	if s.Stats().Expired != 3000 {
		t.Fatalf("Stats().Expired = %d", s.Stats().Expired)
	}
}

func TestBackgroundSweeper(t *testing.T) {
	clock := storetest.NewClock()
	s := open(t, dbPath(t), withNow(clock.Now), func(c *bolt.Config) { c.SweepInterval = 5 * time.Millisecond })
	storetest.MustSave(t, s, "a", "k", "v")
	clock.Advance(time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().Expired != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the background sweeper did not remove the expired session")
		}
		time.Sleep(5 * time.Millisecond)
	}
	storetest.MustCheck(t, s, 0)
}

func TestLargeValues(t *testing.T) {
	path := dbPath(t)
	s := open(t, path)
	ctx := context.Background()
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	fields := []session.Field{{Key: "small", Value: []byte("x")}}
	for i := range 4 {
		fields = append(fields, session.Field{Key: fmt.Sprint("big", i), Value: big})
	}
	if _, err := s.Save(ctx, "u", fields...); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveProp(ctx, "u", "bigprop", big); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveGlobal(ctx, "bigglobal", big); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	for i := range 4 {
		got, err := s.Get(ctx, "u", fmt.Sprint("big", i))
		if err != nil || !bytes.Equal(got, big) {
			t.Fatalf("Get(big%d): %d bytes, %v", i, len(got), err)
		}
	}
	if got, err := s.GetProp(ctx, "u", "bigprop"); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("GetProp: %d bytes, %v", len(got), err)
	}
	storetest.MustGet(t, s, "u", "small", "x")
	tooBig := make([]byte, session.DefaultMaxValueSize+1)
	if _, err := s.Save(ctx, "u", session.Field{Key: "huge", Value: tooBig}); !errors.Is(err, session.ErrTooLarge) {
		t.Fatalf("Save over the limit: %v, want ErrTooLarge", err)
	}
	storetest.MustCheck(t, s, 2)
}

func TestClosedAndCancelled(t *testing.T) {
	s := open(t, dbPath(t))
	storetest.ClosedAndCancelled(t, s)
	if _, err := s.Globals(context.Background()); !errors.Is(err, session.ErrClosed) {
		t.Fatalf("Globals after Close: %v", err)
	}
}

func TestConfig(t *testing.T) {
	if err := (bolt.Config{}).Validate(); err == nil {
		t.Error("Validate accepted an empty Path")
	}
	cfg := bolt.DefaultConfig()
	cfg.Path = dbPath(t)
	cfg.Timeout = -1
	if err := cfg.Validate(); err == nil {
		t.Error("Validate accepted a negative Timeout")
	}
	// A file that is not a bbolt database is refused.
	junk := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("junk"), 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg = bolt.DefaultConfig()
	cfg.Path = junk
	if s, err := bolt.New(cfg); err == nil {
		_ = s.Close(context.Background())
		t.Error("New opened a file that is not a database")
	}
	// A bbolt database of another program is refused.
	other := dbPath(t)
	db, err := bbolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		return b.Put([]byte("format"), []byte("someone else's"))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	cfg.Path = other
	if s, err := bolt.New(cfg); err == nil {
		_ = s.Close(context.Background())
		t.Error("New opened another program's database")
	}
}

// TestConcurrentWritersOneSession checks that operations on one session
// from many goroutines lose nothing, with and without batching.
func TestConcurrentWritersOneSession(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprintf("batch=%v", batch), func(t *testing.T) {
			s := open(t, dbPath(t), func(c *bolt.Config) { c.Batch = batch })
			storetest.ConcurrentWriters(t, s)
			storetest.MustCheck(t, s, 1)
		})
	}
}
