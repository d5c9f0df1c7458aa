package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/testlog"
	"github.com/sessiongrid/sessiongrid/internal/testpoll"

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
	n := serveNode(t, cfg, clock.Now, wrap)
	n.clock = clock
	return n
}

// startRealClockNode starts a default server on the real clock (for
// clients in other processes, whose keys expire by time) and returns its
// port.
func startRealClockNode(t testing.TB) string {
	t.Helper()
	return serveNode(t, Config{}, nil, nil).port()
}

// serveNode starts a server with cfg over wrap(a memory store), both on the
// clock now (the real one when nil), serving on 127.0.0.1:0 until the end
// of the test.
func serveNode(t testing.TB, cfg Config, now func() time.Time, wrap func(Backend) Backend) *testNode {
	t.Helper()
	store, err := memory.New(memory.Config{Now: now, SweepInterval: -1, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = testLogger(t)
	cfg.Now = now
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
	return &testNode{srv: srv, store: store, backend: backend, addr: l.Addr().String()}
}

// port returns the port the node serves on.
func (n *testNode) port() string {
	_, port, _ := strings.Cut(n.addr, ":")
	return port
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

// sendAndReadAll sends req on a new connection to network/addr and returns
// what the server wrote until it closed the connection, with the error
// that ended the reading.
func sendAndReadAll(t testing.TB, network, addr, req string) ([]byte, error) {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	return io.ReadAll(c)
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testpoll.Until(t, 10*time.Second, what, cond)
}

// eachProtocol runs f as a subtest with a client of n speaking RESP2, and
// as one with a client speaking RESP3.
func (n *testNode) eachProtocol(t *testing.T, f func(t *testing.T, c *redis.Client)) {
	protocols(t, func(t *testing.T, proto int) { f(t, n.client(t, proto)) })
}

// eachProtocolNewNode runs f as a subtest with a new default node and a
// client of it speaking RESP2, and as one with another node and a client
// speaking RESP3.
func eachProtocolNewNode(t *testing.T, f func(t *testing.T, n *testNode, c *redis.Client)) {
	protocols(t, func(t *testing.T, proto int) {
		n := startNode(t, Config{})
		f(t, n, n.client(t, proto))
	})
}

// protocols runs f as a subtest with RESP2 and RESP3.
func protocols(t *testing.T, f func(t *testing.T, proto int)) {
	for _, p := range []int{2, 3} {
		t.Run("RESP"+string(rune('0'+p)), func(t *testing.T) { f(t, p) })
	}
}
