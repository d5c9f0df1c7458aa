package globals_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/globals"
)

func TestMap(t *testing.T) {
	ctx := context.Background()
	var closed atomic.Bool
	g := globals.New(closed.Load, 4)
	v := []byte("usd")
	if err := g.SaveGlobal(ctx, "rates", v); err != nil {
		t.Fatal(err)
	}
	v[0] = 'X' // the map holds its own copy
	got, err := g.GetGlobal(ctx, "rates")
	if err != nil || string(got) != "usd" {
		t.Fatalf("GetGlobal = %q, %v", got, err)
	}
	got[0] = 'Y' // and hands out copies
	if all, err := g.Globals(ctx); err != nil || len(all) != 1 || string(all["rates"]) != "usd" {
		t.Fatalf("Globals = %q, %v", all, err)
	}
	if err := g.SaveGlobal(ctx, "big", []byte("12345")); !errors.Is(err, session.ErrTooLarge) {
		t.Fatalf("SaveGlobal over the limit: %v", err)
	}
	if err := g.SaveGlobal(ctx, "", nil); !errors.Is(err, session.ErrInvalidKey) {
		t.Fatalf("SaveGlobal with an empty key: %v", err)
	}
	if _, err := g.GetGlobal(ctx, "none"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("GetGlobal(none): %v", err)
	}
	if n := globals.Len(g); n != 1 {
		t.Fatalf("Len = %d", n)
	}
	if ok, err := g.EvictGlobal(ctx, "rates"); !ok || err != nil {
		t.Fatalf("EvictGlobal = %v, %v", ok, err)
	}
	if ok, err := g.EvictGlobal(ctx, "rates"); ok || err != nil {
		t.Fatalf("second EvictGlobal = %v, %v", ok, err)
	}
	if err := g.SaveGlobal(ctx, "a", nil); err != nil {
		t.Fatal(err)
	}
	globals.Clear(g)
	if n := globals.Len(g); n != 0 {
		t.Fatalf("Len after Clear = %d", n)
	}
	closed.Store(true)
	if _, err := g.Globals(ctx); !errors.Is(err, session.ErrClosed) {
		t.Fatalf("Globals after close: %v", err)
	}
	if _, err := g.GetGlobal(ctx, "a"); !errors.Is(err, session.ErrClosed) {
		t.Fatalf("GetGlobal after close: %v", err)
	}
}
