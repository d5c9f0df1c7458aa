package bolt

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
)

// TestHashCollisions checks that long ids whose hashes collide are told
// apart by the id stored in each record.
func TestHashCollisions(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Path = filepath.Join(t.TempDir(), "db")
	cfg.NoSync = true
	cfg.SweepInterval = -1
	s, err := newStore(cfg, func(string) idHash { return idHash{0xab} })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	ctx := context.Background()
	long := func(c string) string { return strings.Repeat(c, inlineKeyMax+1) }
	ids := []string{long("a"), long("b"), long("c"), long("d")}
	for i, id := range ids {
		if _, err := s.Save(ctx, id, session.Field{Key: "k", Value: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(present map[string]string) {
		t.Helper()
		storetest.MustHold(t, s, ids, "k", present)
		if _, err := s.Check(ctx); err != nil {
			t.Fatalf("Check: %v", err)
		}
	}
	check(map[string]string{ids[0]: "0", ids[1]: "1", ids[2]: "2", ids[3]: "3"})
	if _, err := s.Clear(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Clear(ctx, ids[3]); err != nil {
		t.Fatal(err)
	}
	check(map[string]string{ids[0]: "0", ids[2]: "2"})
	// Re-added ids take fresh sequence numbers, never one in use.
	for _, id := range []string{ids[3], ids[1]} {
		if _, err := s.Save(ctx, id, session.Field{Key: "k", Value: []byte("again")}); err != nil {
			t.Fatal(err)
		}
	}
	check(map[string]string{ids[0]: "0", ids[1]: "again", ids[2]: "2", ids[3]: "again"})
}

func TestExpiryKeyOrder(t *testing.T) {
	times := []int64{-1 << 62, -5, 0, 1, 1767323045000000000, 1<<63 - 1}
	for i := 1; i < len(times); i++ {
		a, b := expiryKey(times[i-1], []byte{0, 'z'}), expiryKey(times[i], []byte{0, 'a'})
		if string(a) >= string(b) {
			t.Errorf("expiryKey(%d) sorts after expiryKey(%d)", times[i-1], times[i])
		}
		at, key, ok := parseExpiryKey(b)
		if !ok || at != times[i] || string(key) != "\x00a" {
			t.Errorf("parseExpiryKey = %d, %q, %v", at, key, ok)
		}
	}
}
