// Package gridtest starts real grids for tests, as hashicorp/raft's
// MakeCluster does: N gridnode servers in this process, each a grid member
// (real gossip, Raft, internal transport) served by a RESP server, all on
// loopback ports, with hooks to crash, stop and cut members. Everything
// stops when the test ends.
package gridtest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/grid"
	"github.com/sessiongrid/sessiongrid/gridserver"
	"github.com/sessiongrid/sessiongrid/replication"
	"github.com/sessiongrid/sessiongrid/server"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/transport"
)

// Clock is a settable clock shared by every member's stores, so that one
// suite's fake clock drives the whole grid. Its zero value reads time.Now.
type Clock struct {
	now atomic.Pointer[func() time.Time]
}

// Now returns the time of the clock in force.
func (c *Clock) Now() time.Time {
	if f := c.now.Load(); f != nil {
		return (*f)()
	}
	return time.Now()
}

// Set makes f the clock.
func (c *Clock) Set(f func() time.Time) { c.now.Store(&f) }

// Options configure Start. The zero value is three servers with test
// timeouts and silent logs.
type Options struct {
	// Members is the number of servers; 3 when 0.
	Members int
	// Member, when set, adjusts member i's configuration (0-based).
	Member func(i int, c *grid.MemberConfig)
	// Server, when set, adjusts server i's configuration.
	Server func(i int, c *server.Config)
	// Logger receives every member's and server's logs; none when nil.
	Logger *slog.Logger
	// TLS, when set, makes every server serve RESP over TLS with it too, on
	// a second loopback port that the member advertises as its TLS client
	// address (Node.TLSAddr).
	TLS *tls.Config
}

// Node is one member of a test grid and the RESP server in front of it.
type Node struct {
	Member *grid.Member
	Server *server.Server
	// Addr is the RESP address clients dial.
	Addr string
	// TLSAddr is the RESP-over-TLS address (Options.TLS), "" without one.
	TLSAddr string

	down     atomic.Bool
	stopOnce sync.Once
}

// Grid is a running test grid.
type Grid struct {
	// Clock drives every member's stores.
	Clock *Clock
	// Seeds are the members' gossip addresses (join through them).
	Seeds []string
	// Nodes are the members, in start order.
	Nodes []*Node

	opts Options
	cuts sync.Map // transport address → struct{}: members cut off
}

// MemberConfig returns the configuration the test grid gives its members:
// the local profiles of cluster, transport and Raft (with a Raft lease long
// enough not to be lost to scheduling under -race on a loaded machine), a
// 50 ms planning interval and stores that read clock.
func MemberConfig(name string, role cluster.Role, expect int, seeds []string, clock *Clock) grid.MemberConfig {
	c := cluster.DefaultLocalConfig()
	c.Name, c.Role = name, role
	g := replication.DefaultLocalGlobalsConfig()
	g.BootstrapExpect = expect
	// Every member runs in this process; under -race on a loaded machine a
	// 200 ms leader lease is lost to scheduling alone, and each loss fails
	// the global writes in flight. The LAN lease (500 ms, 1 s heartbeats)
	// and a longer wait for a leader keep rules about globals from
	// measuring the machine's load.
	g.HeartbeatTimeout, g.ElectionTimeout, g.LeaderLeaseTimeout = time.Second, time.Second, 500*time.Millisecond
	g.LeaderWait = 5 * time.Second
	gr := grid.DefaultConfig()
	gr.PlanInterval = 50 * time.Millisecond
	gr.Store.Now = clock.Now
	return grid.MemberConfig{Cluster: c, Transport: transport.DefaultLocalConfig(), Globals: g, Grid: gr,
		Seeds: seeds, JoinTimeout: 10 * time.Second, Logger: slog.New(slog.DiscardHandler)}
}

// Start starts the grid and waits until every member has a partition table.
func Start(t testing.TB, opts Options) *Grid {
	t.Helper()
	if opts.Members == 0 {
		opts.Members = 3
	}
	g := &Grid{Clock: &Clock{}, opts: opts}
	for i := range opts.Members {
		g.start(t, i, opts.Members)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range g.Nodes {
		if err := n.Member.WaitReady(ctx); err != nil {
			t.Fatalf("gridtest: %s not ready: %v", n.Member.Cluster.Name(), err)
		}
	}
	return g
}

func (g *Grid) start(t testing.TB, i, expect int) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := MemberConfig(fmt.Sprint("s", i+1), cluster.RoleServer, expect, g.Seeds, g.Clock)
	cfg.Cluster.Addrs.Client = l.Addr().String()
	var tl net.Listener
	if g.opts.TLS != nil {
		if tl, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			l.Close()
			t.Fatal(err)
		}
		cfg.Cluster.Addrs.ClientTLS = tl.Addr().String()
	}
	closeListeners := func() {
		l.Close()
		if tl != nil {
			tl.Close()
		}
	}
	if g.opts.Logger != nil {
		cfg.Logger = g.opts.Logger
	}
	self := new(atomic.Value) // its transport address, once started
	cfg.Transport.Blocked = g.blocked(self)
	if g.opts.Member != nil {
		g.opts.Member(i, &cfg)
	}
	m, err := grid.StartMember(context.Background(), cfg)
	if err != nil {
		closeListeners()
		t.Fatalf("gridtest: member %d: %v", i, err)
	}
	self.Store(m.Transport.Addr())
	b := gridserver.New(m)
	scfg := server.DefaultConfig()
	scfg.Logger = cfg.Logger
	if g.opts.Server != nil {
		g.opts.Server(i, &scfg)
	}
	srv, err := server.New(scfg, b)
	if err != nil {
		closeListeners()
		m.Close(context.Background())
		t.Fatalf("gridtest: server %d: %v", i, err)
	}
	b.ServeForwarded(srv.ExecBatch)
	n := &Node{Member: m, Server: srv, Addr: l.Addr().String()}
	served := make(chan error, 2)
	go func() { served <- srv.Serve(l) }()
	listeners := 1
	if tl != nil {
		n.TLSAddr = tl.Addr().String()
		listeners++
		go func() { served <- srv.Serve(server.NewTLSListener(tl, g.opts.TLS, 10*time.Second)) }()
	}
	t.Cleanup(func() {
		g.stop(n, false)
		for range listeners {
			if err := <-served; err != nil && !errors.Is(err, server.ErrServerClosed) {
				t.Errorf("gridtest: server %d: Serve returned %v", i, err)
			}
		}
	})
	g.Seeds = append(g.Seeds, m.Cluster.GossipAddr())
	g.Nodes = append(g.Nodes, n)
}

// blocked is a member's network-cut hook (self holds its transport
// address): while it is cut off it reaches nobody, and nobody reaches a
// member that is cut off.
func (g *Grid) blocked(self *atomic.Value) func(addr string) bool {
	return func(addr string) bool {
		if a, ok := self.Load().(string); ok {
			if _, cut := g.cuts.Load(a); cut {
				return true
			}
		}
		_, cut := g.cuts.Load(addr)
		return cut
	}
}

// Addrs returns the RESP addresses of the members still up.
func (g *Grid) Addrs() []string {
	var out []string
	for _, n := range g.Nodes {
		if !n.down.Load() {
			out = append(out, n.Addr)
		}
	}
	return out
}

// Crash stops member i at once, as a killed process would: no hand-over,
// no leave message; its RESP server closes its connections.
func (g *Grid) Crash(i int) { g.stop(g.Nodes[i], false) }

// Stop stops member i gracefully: it hands its partitions over and leaves
// the grid, then its server stops.
func (g *Grid) Stop(t testing.TB, i int) {
	t.Helper()
	n := g.Nodes[i]
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := n.Member.Leave(ctx); err != nil {
		t.Errorf("gridtest: %s leave: %v", n.Member.Cluster.Name(), err)
	}
	g.stop(n, true)
}

func (g *Grid) stop(n *Node, left bool) {
	n.stopOnce.Do(func() {
		n.down.Store(true)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n.Server.Shutdown(ctx)
		if !left {
			n.Member.Close(ctx)
		}
	})
}

// Cut cuts member i off the internal transport (both ways) until Heal:
// forwarding and replication to and from it fail; gossip still runs.
func (g *Grid) Cut(i int) { g.cuts.Store(g.Nodes[i].Member.Transport.Addr(), struct{}{}) }

// Heal ends Cut.
func (g *Grid) Heal(i int) { g.cuts.Delete(g.Nodes[i].Member.Transport.Addr()) }

// Store is what Wipe empties: a grid member's router, a smart client.
type Store interface {
	session.Store
	session.Keyspace
}

// Wipe empties the grid through r: every key and every global, and checks
// that it did. Evicting a global is a Raft write: when the leader loses its
// lease (a loaded machine under -race can starve it) it fails with
// session.ErrUnavailable, so an unavailable eviction is tried again (it is
// idempotent) until the grid is empty or 30 s pass.
func Wipe(t testing.TB, r Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var cursor uint64
	for {
		next, keys, err := r.Scan(ctx, cursor, "", 10000)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) > 0 {
			if _, err := r.Delete(ctx, keys...); err != nil {
				t.Fatal(err)
			}
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	for {
		all, err := r.Globals(ctx)
		if err == nil && len(all) == 0 {
			return
		}
		for k := range all {
			if _, err = r.EvictGlobal(ctx, k); err != nil {
				break
			}
		}
		if err != nil && !errors.Is(err, session.ErrUnavailable) {
			t.Fatalf("gridtest: wipe: globals: %v", err)
		}
		if ctx.Err() != nil {
			t.Fatalf("gridtest: wipe: globals left after 30 s: %d, last error %v", len(all), err)
		}
		if err != nil {
			t.Logf("gridtest: wipe: globals: %v (trying again)", err)
		}
	}
}
