package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/testpoll"
)

// testLog routes slog records to t.Log until the test ends, and records them
// for assertions.
type testLog struct {
	t    testing.TB
	done atomic.Bool
	mu   sync.Mutex
	buf  []string
}

func newTestLog(t testing.TB) *testLog {
	l := &testLog{t: t}
	t.Cleanup(func() { l.done.Store(true) })
	return l
}

func (l *testLog) Write(p []byte) (int, error) {
	s := strings.TrimSpace(string(p))
	l.mu.Lock()
	l.buf = append(l.buf, s)
	l.mu.Unlock()
	if !l.done.Load() {
		l.t.Log(s)
	}
	return len(p), nil
}

func (l *testLog) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func (l *testLog) contains(subs ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
next:
	for _, line := range l.buf {
		for _, s := range subs {
			if !strings.Contains(line, s) {
				continue next
			}
		}
		return true
	}
	return false
}

// startNode creates a node named name with DefaultLocalConfig changed by
// mutate; it is closed when the test ends.
func startNode(t testing.TB, name string, mutate func(*Config)) (*Node, *testLog) {
	t.Helper()
	l := newTestLog(t)
	cfg := DefaultLocalConfig()
	cfg.Name = name
	cfg.Logger = l.logger().With("test_node", name)
	if mutate != nil {
		mutate(&cfg)
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%s): %v", name, err)
	}
	t.Cleanup(func() { _ = n.Close(context.Background()) })
	return n, l
}

// startGrid starts size nodes n1..nsize joined through n1.
func startGrid(t testing.TB, size int, mutate func(*Config)) []*Node {
	t.Helper()
	nodes := make([]*Node, size)
	for i := range nodes {
		nodes[i], _ = startNode(t, fmt.Sprintf("n%d", i+1), mutate)
		var seeds []string
		if i > 0 {
			seeds = []string{nodes[0].GossipAddr()}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := nodes[i].Join(ctx, seeds)
		cancel()
		if err != nil {
			t.Fatalf("join n%d: %v", i+1, err)
		}
	}
	for _, n := range nodes {
		testpoll.Until(t, 10*time.Second, n.Name()+" to see every member", func() bool {
			return countState(n.Members(), StateAlive) == size
		})
	}
	return nodes
}

func countState(ms []Member, s State) int {
	k := 0
	for _, m := range ms {
		if m.State == s {
			k++
		}
	}
	return k
}

func stateOf(n *Node, name string) State {
	for _, m := range n.Members() {
		if m.Name == name {
			return m.State
		}
	}
	return ""
}
