package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/testlog"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

type sessionField = session.Field

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// testLogger routes logs to the test's output, so they show only on failure.
func testLogger(t testing.TB) *slog.Logger { return testlog.New(t) }

// testNode is a server on 127.0.0.1:0 over a memory store with a fake clock.
type testNode struct {
	srv     *Server
	store   *memory.Store
	backend Backend // what the server serves: store, or a wrapper of it
	clock   *fakeClock
	addr    string
}

// startNode starts a server with cfg (zero fields default) and stops it,
// and its store, at the end of the test.
func startNode(t testing.TB, cfg Config) *testNode {
	t.Helper()
	return newTestNode(t, cfg, nil)
}

// startNodeWith starts a default server over wrap(store).
func startNodeWith(t testing.TB, wrap func(Backend) Backend) *testNode {
	t.Helper()
	return newTestNode(t, Config{}, wrap)
}

func newTestNode(t testing.TB, cfg Config, wrap func(Backend) Backend) *testNode {
	t.Helper()
	clock := newFakeClock()
	store, err := memory.New(memory.Config{Now: clock.Now, SweepInterval: -1, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = testLogger(t)
	cfg.Now = clock.Now
	var backend Backend = store
	if wrap != nil {
		backend = wrap(store)
	}
	srv, err := New(cfg, backend)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		store.Close(ctx)
	})
	return &testNode{srv: srv, store: store, backend: backend, clock: clock, addr: l.Addr().String()}
}

// client returns a go-redis client of the node speaking protocol proto
// (2 or 3), closed at the end of the test.
func (n *testNode) client(t testing.TB, proto int, mod ...func(*redis.Options)) *redis.Client {
	t.Helper()
	opt := &redis.Options{Addr: n.addr, Protocol: proto, MaxRetries: -1, DialTimeout: 5 * time.Second}
	for _, m := range mod {
		m(opt)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// dial opens a raw TCP connection to the node, closed at the end of the test.
func (n *testNode) dial(t testing.TB) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", n.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// protocols runs f as a subtest with RESP2 and RESP3.
func protocols(t *testing.T, f func(t *testing.T, proto int)) {
	for _, p := range []int{2, 3} {
		t.Run("RESP"+string(rune('0'+p)), func(t *testing.T) { f(t, p) })
	}
}
