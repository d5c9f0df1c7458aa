package session_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// noEvents is a store without the Watcher capability.
type noEvents struct{ session.Store }

func TestListenNeedsAWatcher(t *testing.T) {
	store, err := memory.New(memory.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(context.Background())
	m := session.NewManager(noEvents{store}, session.Config{})
	if _, err := session.Listen(m, func(session.Event) {}); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Listen over a store without events: %v, want ErrUnsupported", err)
	}
}

// TestListenerDropsWhenBehind: a callback that blocks never blocks the
// store; events past the queue are dropped and counted, and Close returns
// once the callback does.
func TestListenerDropsWhenBehind(t *testing.T) {
	ctx := context.Background()
	store, err := memory.New(memory.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	m := session.NewManager(store, session.Config{})
	defer m.Close(ctx)
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	l, err := session.Listen(m, func(session.Event) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-release
	})
	if err != nil {
		t.Fatal(err)
	}
	total := session.ListenerQueue + 100
	for i := range total {
		id := "u" + string(rune('a'+i%26)) + string(rune('0'+i/26%10)) + string(rune('0'+i/260))
		store.Save(ctx, id, session.Field{Key: "k", Value: []byte("v")})
		store.Delete(ctx, id)
	}
	<-started
	if d := l.Dropped(); d == 0 || d > 100 {
		t.Fatalf("Dropped = %d, want between 1 and 100 (one event held by the callback, %d queued)", d, session.ListenerQueue)
	}
	close(release)
	l.Close()
	l.Close() // idempotent
}
