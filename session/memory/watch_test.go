package memory

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// TestWatchReportsExpiredAndDeleted: every way a key leaves the store is
// reported once, as expired or deleted, and nothing else is.
func TestWatchReportsExpiredAndDeleted(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s, err := New(Config{Now: clock, SweepInterval: -1, DefaultIdle: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	var got []string
	cancel := s.Watch(func(e session.Event) { got = append(got, e.Type.String()+" "+e.ID) })

	f := session.Field{Key: "k", Value: []byte("v")}
	s.Save(ctx, "del", f)
	s.Save(ctx, "clear", f)
	s.Save(ctx, "evict", f)
	s.Save(ctx, "retain", f)
	s.SetString(ctx, "lock", []byte("me"), session.SetOptions{})
	s.Save(ctx, "swept", f)
	s.Save(ctx, "lazy", f)
	s.Save(ctx, "rewritten", f)
	s.Save(ctx, "kept", f)

	s.Delete(ctx, "del", "missing")
	s.Clear(ctx, "clear")
	s.Evict(ctx, "evict", "k")
	s.Clear(ctx, "retain", "other")
	s.DeleteIf(ctx, "lock", true, []byte("not me"))
	s.DeleteIf(ctx, "lock", true, []byte("me"))
	s.Save(ctx, "kept", session.Field{Key: "k2", Value: []byte("v")}) // a write: no event
	want := []string{"deleted del", "deleted clear", "deleted evict", "deleted retain", "deleted lock"}
	if !slices.Equal(got, want) {
		t.Fatalf("deletes reported %q, want %q", got, want)
	}

	got = nil
	advance(2 * time.Minute)
	s.Delete(ctx, "lazy")       // found expired: an expiry, not a delete
	s.Save(ctx, "rewritten", f) // a write over an expired key
	n, _ := s.Sweep(ctx)
	s.Sweep(ctx)
	slices.Sort(got)
	want = []string{"expired kept", "expired lazy", "expired rewritten", "expired swept"}
	if !slices.Equal(got, want) || n != 2 {
		t.Fatalf("expiries reported %q (sweep removed %d), want %q", got, n, want)
	}

	cancel()
	cancel() // idempotent
	got = nil
	s.Delete(ctx, "rewritten")
	if len(got) != 0 {
		t.Fatalf("events after cancel: %q", got)
	}
}
