package lifecycle_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/lifecycle"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
)

func noSweep(context.Context) (int, error) { return 0, nil }

func TestEnterAndClose(t *testing.T) {
	var g lifecycle.Gate
	g.Open("test", -1, noSweep, storetest.Logger(t))
	ctx := context.Background()
	if g.Closing() {
		t.Fatal("Closing before Close")
	}
	if err := g.Stopped(ctx); err != nil {
		t.Fatalf("Stopped before Close: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := g.Enter(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("Enter with a cancelled ctx: %v", err)
	}
	if err := g.Stopped(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stopped with a cancelled ctx: %v", err)
	}

	// Close waits for the operation in flight.
	if err := g.Enter(ctx); err != nil {
		t.Fatal(err)
	}
	var released atomic.Int32
	errRelease := errors.New("release failed")
	closed := make(chan error, 1)
	go func() {
		closed <- g.Close(func() error { released.Add(1); return errRelease })
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !g.Closing() {
		if time.Now().After(deadline) {
			t.Fatal("Close did not start")
		}
		time.Sleep(time.Millisecond)
	}
	if err := g.Stopped(ctx); !errors.Is(err, session.ErrClosed) {
		t.Fatalf("Stopped during Close: %v", err)
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned %v with an operation in flight", err)
	case <-time.After(20 * time.Millisecond):
	}
	if released.Load() != 0 {
		t.Fatal("released with an operation in flight")
	}
	g.Leave()
	if err := <-closed; !errors.Is(err, errRelease) {
		t.Fatalf("Close = %v, want release's error", err)
	}
	if err := g.Enter(ctx); !errors.Is(err, session.ErrClosed) {
		t.Fatalf("Enter after Close: %v", err)
	}
	if err := g.Close(func() error { released.Add(1); return nil }); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if n := released.Load(); n != 1 {
		t.Fatalf("release ran %d times", n)
	}
}

func TestSweeper(t *testing.T) {
	var g lifecycle.Gate
	var sweeps atomic.Int32
	g.Open("test", time.Millisecond, func(ctx context.Context) (int, error) {
		if err := ctx.Err(); err != nil && !g.Closing() {
			t.Errorf("sweep with a done ctx before Close: %v", err)
		}
		if sweeps.Add(1)%2 == 0 {
			return 0, errors.New("disk on fire")
		}
		return 1, nil
	}, slog.New(slog.DiscardHandler))
	deadline := time.Now().Add(10 * time.Second)
	for sweeps.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatal("the sweeper did not run")
		}
		time.Sleep(time.Millisecond)
	}
	if err := g.Close(func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	// Close waited for the sweeper: it runs no more (goleak checks it is gone).
	n := sweeps.Load()
	time.Sleep(5 * time.Millisecond)
	if sweeps.Load() != n {
		t.Fatal("the sweeper ran after Close")
	}
}
