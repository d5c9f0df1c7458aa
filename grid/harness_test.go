package grid_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/grid"
	"github.com/sessiongrid/sessiongrid/internal/testpoll"
	"github.com/sessiongrid/sessiongrid/replication"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/transport"
)

// memGlobals is a process-wide globals map for unit tests (production uses
// the Raft map).
type memGlobals struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (g *memGlobals) Save(_ context.Context, k string, v []byte) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.m[k] = append([]byte{}, v...)
	return nil
}

func (g *memGlobals) Get(_ context.Context, k string, _ ...replication.ReadOption) ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	v, ok := g.m[k]
	if !ok {
		return nil, fmt.Errorf("%w: global %q", session.ErrNotFound, k)
	}
	return append([]byte{}, v...), nil
}

func (g *memGlobals) Evict(_ context.Context, k string) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.m[k]
	delete(g.m, k)
	return ok, nil
}

func (g *memGlobals) All(context.Context, ...replication.ReadOption) (map[string][]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string][]byte, len(g.m))
	for k, v := range g.m {
		out[k] = append([]byte{}, v...)
	}
	return out, nil
}

// testGrid is N members in this process: real memberlist gossip and real
// internal transport on loopback, one in-memory table log.
type testGrid struct {
	t       testing.TB
	tweak   func(*grid.Config) // applied to every member's config
	log     *grid.MemLog
	globals *memGlobals
	now     atomic.Pointer[func() time.Time]
	mu      sync.Mutex
	members []*member
	seq     int
}

type member struct {
	name   string
	cl     *cluster.Node
	tr     *transport.Transport
	node   *grid.Node
	up     bool
	offset atomic.Int64 // this member's clock runs ahead of the grid's by offset

	bmu     sync.Mutex      // guards blocked
	blocked map[string]bool // gossip and transport addresses this member cannot reach
}

// blocks is the member's Blocked hook: a cut is simulated on the sender.
func (m *member) blocks(addr string) bool {
	m.bmu.Lock()
	defer m.bmu.Unlock()
	return m.blocked[addr]
}

func (m *member) block(addrs ...string) {
	m.bmu.Lock()
	defer m.bmu.Unlock()
	for _, a := range addrs {
		m.blocked[a] = true
	}
}

func (m *member) unblock() {
	m.bmu.Lock()
	defer m.bmu.Unlock()
	clear(m.blocked)
}

// cut isolates m from every other member (gossip and transport, both ways);
// heal ends every cut.
func (g *testGrid) cut(m *member) {
	for _, o := range g.live() {
		if o != m {
			m.block(o.cl.GossipAddr(), o.tr.Addr())
			o.block(m.cl.GossipAddr(), m.tr.Addr())
		}
	}
}

func (g *testGrid) heal() {
	for _, o := range g.live() {
		o.unblock()
	}
}

// testLease is the members' lease: short, but long enough that renewals
// never lapse on a loaded machine under the race detector.
const testLease = time.Second

func newTestGrid(t testing.TB, n int) *testGrid { return newTestGridWith(t, n, nil) }

// newTestGridWith is newTestGrid with tweak applied to every member's config.
func newTestGridWith(t testing.TB, n int, tweak func(*grid.Config)) *testGrid {
	g := &testGrid{t: t, tweak: tweak, log: grid.NewMemLog("m1"), globals: &memGlobals{m: map[string][]byte{}}}
	now := time.Now
	g.now.Store(&now)
	t.Cleanup(g.closeAll)
	for i := 0; i < n; i++ {
		g.add(cluster.RoleServer)
	}
	g.waitStable()
	return g
}

func quiet(t testing.TB) *slog.Logger {
	if os.Getenv("GRID_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// add starts one more member and joins it to the others.
func (g *testGrid) add(role cluster.Role) *member {
	g.t.Helper()
	g.mu.Lock()
	g.seq++
	name := fmt.Sprintf("m%d", g.seq)
	g.mu.Unlock()
	return g.addNamed(role, name, nil)
}

// addNamed starts a member called name (a restart reuses a name), with
// tweak applied to its grid config.
func (g *testGrid) addNamed(role cluster.Role, name string, tweak func(*grid.Config)) *member {
	g.t.Helper()
	m := &member{name: name, up: true, blocked: map[string]bool{}}
	g.mu.Lock()
	var seeds []string
	for _, m := range g.members {
		if m.up {
			seeds = append(seeds, m.cl.GossipAddr())
		}
	}
	g.mu.Unlock()
	logger := quiet(g.t)
	tcfg := transport.DefaultLocalConfig()
	tcfg.Logger = logger
	tcfg.Blocked = m.blocks
	tr, err := transport.New(tcfg)
	if err != nil {
		g.t.Fatal(err)
	}
	ccfg := cluster.DefaultLocalConfig()
	ccfg.Name = name
	ccfg.Role = role
	ccfg.Addrs.Transport = tr.Addr()
	ccfg.Logger = logger
	ccfg.Blocked = m.blocks
	cl, err := cluster.New(ccfg)
	if err != nil {
		g.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.Join(ctx, seeds); err != nil {
		g.t.Fatal(err)
	}
	cfg := grid.DefaultConfig()
	cfg.Logger = logger
	cfg.PlanInterval = 50 * time.Millisecond
	cfg.LeaseDuration = testLease
	cfg.BackupTimeout = 3 * time.Second
	cfg.Store.Now = func() time.Time { return (*g.now.Load())().Add(time.Duration(m.offset.Load())) }
	if g.tweak != nil {
		g.tweak(&cfg)
	}
	if tweak != nil {
		tweak(&cfg)
	}
	node, err := grid.New(cfg, cl, tr, g.log.View(name), g.globals)
	if err != nil {
		g.t.Fatal(err)
	}
	m.cl, m.tr, m.node = cl, tr, node
	g.mu.Lock()
	g.members = append(g.members, m)
	g.mu.Unlock()
	return m
}

// stop closes a member: gracefully (drain, then leave) or as a crash.
func (g *testGrid) stop(m *member, graceful bool) {
	g.t.Helper()
	// A drain hands over every partition the member holds, one move at a
	// time per partition (a switch waits until the target acked every
	// write): seconds here, but CI runs this beside the Docker suite's
	// image builds on two cores, where one drain took over 30 s.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if graceful {
		if err := m.node.Drain(ctx); err != nil {
			g.t.Fatalf("drain %s: %v", m.name, err)
		}
		m.cl.Leave(ctx)
	}
	m.node.Close(ctx)
	m.tr.Close(ctx)
	m.cl.Close(ctx)
	g.mu.Lock()
	m.up = false
	g.mu.Unlock()
	if g.log.Coordinator() == m.name { // the coordinator moves, as a Raft leader would
		if live := g.live(); len(live) > 0 {
			g.log.SetCoordinator(live[0].name)
		}
	}
}

func (g *testGrid) closeAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, m := range g.members {
		if m.up {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			m.node.Close(ctx)
			m.tr.Close(ctx)
			m.cl.Close(ctx)
			cancel()
			m.up = false
		}
	}
}

func (g *testGrid) live() []*member {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []*member
	for _, m := range g.members {
		if m.up {
			out = append(out, m)
		}
	}
	return out
}

// waitStable waits until every live member sees every other, the table
// has no learners, and every partition is owned by a live member, with
// every live member on the same epoch.
func (g *testGrid) waitStable() {
	g.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		live := g.live()
		names, ids := map[string]bool{}, map[string]bool{}
		for _, m := range live {
			names[m.name] = true
			ids[m.node.Name()] = true
		}
		ok := true
		var epoch uint64
		for i, m := range live {
			alive := 0
			for _, mb := range m.cl.Members() {
				if mb.State == cluster.StateAlive && names[mb.Name] {
					alive++
				}
			}
			t := m.node.Table()
			if alive != len(live) || len(t.Partitions) == 0 || (i > 0 && t.Epoch != epoch) {
				ok = false
				break
			}
			epoch = t.Epoch
			if m.node.Held() == 0 {
				ok = false
			}
			for _, a := range t.Partitions {
				if len(a.Learners) > 0 || !ids[a.Primary()] {
					ok = false
				}
			}
		}
		if ok {
			// the coordinator must have nothing left to plan
			if c := g.coordinator(); c != nil {
				err := c.node.PlanNow(context.Background())
				if err == nil && g.log.Epoch() == epoch {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			for _, m := range live {
				t := m.node.Table()
				g.t.Logf("%s: epoch %d, members %d", m.name, t.Epoch, len(m.cl.Members()))
			}
			g.t.Fatal("grid did not become stable")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// advance moves every member's clock forward by d.
func (g *testGrid) advance(d time.Duration) {
	base := *g.now.Load()
	now := func() time.Time { return base().Add(d) }
	g.now.Store(&now)
}

// waitSafe waits until the grid is cluster-safe: every partition has its
// full backup count, in sync, and nothing moves.
func (g *testGrid) waitSafe() {
	g.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		live := g.live()
		st := live[0].node.Safe(context.Background())
		if st.Safe {
			return
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("grid not safe: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitTakenOver waits until the table that via holds makes victim the
// primary of no partition.
func (g *testGrid) waitTakenOver(victim, via *member) {
	g.t.Helper()
	testpoll.Until(g.t, 30*time.Second, "the victim's partitions taken over", func() bool {
		for _, pa := range via.node.Table().Partitions {
			if pa.Primary() == victim.node.Name() {
				return false
			}
		}
		return true
	})
}

func (g *testGrid) coordinator() *member {
	for _, m := range g.live() {
		if m.name == g.log.Coordinator() {
			return m
		}
	}
	return nil
}
