package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
)

// collide is a name hash under which every id collides.
func collide(string) nameHash { return nameHash{0xab, 0xcd} }

func openColliding(t *testing.T, dir string, now func() time.Time) *Store {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Dir = dir
	cfg.Fsync = false
	cfg.SweepInterval = -1
	cfg.Now = now
	s, err := newStore(cfg, collide)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func chainFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, sessionsDir, "ab"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// TestHashCollisionChain checks that ids whose file names collide are told
// apart by the id stored in each file, and that removals keep the chain
// without gaps.
func TestHashCollisionChain(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	s := openColliding(t, dir, clock)
	ctx := context.Background()
	ids := []string{"a", "A", "b", "../c", "d"}
	for i, id := range ids {
		if _, err := s.Save(ctx, id, session.Field{Key: "k", Value: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	base := slotName(collide(""), 0)
	want := []string{base, base + ".1", base + ".2", base + ".3", base + ".4"}
	if got := chainFiles(t, dir); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("chain files %v, want %v", got, want)
	}
	check := func(present map[string]string) {
		t.Helper()
		storetest.MustHold(t, s, ids, "k", present)
	}
	check(map[string]string{"a": "0", "A": "1", "b": "2", "../c": "3", "d": "4"})

	// Removing from the middle moves the last file into the hole.
	if _, err := s.Clear(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	if got := chainFiles(t, dir); len(got) != 4 || got[3] != base+".3" {
		t.Fatalf("chain after a removal: %v", got)
	}
	check(map[string]string{"a": "0", "b": "2", "../c": "3", "d": "4"})
	// Removing the head, and the tail.
	if _, err := s.Evict(ctx, "a", "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Clear(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	check(map[string]string{"../c": "3", "d": "4"})
	if got := chainFiles(t, dir); len(got) != 2 {
		t.Fatalf("chain %v, want 2 files", got)
	}
	// Re-adding goes to the end; expiry in a chain is swept per id.
	if _, err := s.Save(ctx, "A", session.Field{Key: "k", Value: []byte("new")}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetExpiry(ctx, "d", session.Expiry{Idle: session.NoExpiry}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	n, err := s.Sweep(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want 2", n, err)
	}
	check(map[string]string{"d": "4"})
	if got := chainFiles(t, dir); len(got) != 1 || got[0] != base {
		t.Fatalf("chain after the sweep: %v", got)
	}
	if n, err := s.Check(ctx); n != 1 || err != nil {
		t.Fatalf("Check = %d, %v", n, err)
	}
}

func TestParseName(t *testing.T) {
	h := nameHash{0x01, 0xab}
	base := slotName(h, 0)
	cases := []struct {
		name    string
		slot    int
		tmp, ok bool
	}{
		{base, 0, false, true},
		{base + ".1", 1, false, true},
		{base + ".17", 17, false, true},
		{base + ".tmp", 0, true, true},
		{base + ".0", 0, false, false},
		{base + ".01", 0, false, false},
		{base + ".-1", 0, false, false},
		{base + ".x", 0, false, false},
		{base + "x", 0, false, false},
		{base[:31], 0, false, false},
		{"01AB" + base[4:], 0, false, false},
		{"zz" + base[2:], 0, false, false},
		{"LOCK", 0, false, false},
	}
	for _, c := range cases {
		gh, slot, tmp, ok := parseName(c.name)
		if ok != c.ok || (ok && (gh != h || slot != c.slot || tmp != c.tmp)) {
			t.Errorf("parseName(%q) = %x, %d, %v, %v; want slot %d tmp %v ok %v", c.name, gh, slot, tmp, ok, c.slot, c.tmp, c.ok)
		}
	}
}
