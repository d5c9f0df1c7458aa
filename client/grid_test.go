package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/gridserver"
	"github.com/sessiongrid/sessiongrid/peer"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/grid"
	"github.com/sessiongrid/sessiongrid/replication"
	"github.com/sessiongrid/sessiongrid/server"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/sessiontest"
	"github.com/sessiongrid/sessiongrid/transport"
)

// gridClock lets one suite's fake clock drive every member's stores.
type gridClock struct {
	now atomic.Pointer[func() time.Time]
}

func (c *gridClock) Now() time.Time { return (*c.now.Load())() }
func (c *gridClock) set(f func() time.Time) {
	c.now.Store(&f)
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func memberConfig(name string, role cluster.Role, expect int, seeds []string, clock *gridClock) grid.MemberConfig {
	c := cluster.DefaultLocalConfig()
	c.Name, c.Role = name, role
	g := replication.DefaultLocalGlobalsConfig()
	g.BootstrapExpect = expect
	// Every member of the test grid runs in this process; under -race on a
	// loaded machine a 200 ms leader lease is lost to scheduling alone, and
	// each loss fails the global writes in flight. The LAN lease (500 ms,
	// 1 s heartbeats) and a longer wait for a leader keep the rules about
	// globals from measuring the machine's load.
	g.HeartbeatTimeout, g.ElectionTimeout, g.LeaderLeaseTimeout = time.Second, time.Second, 500*time.Millisecond
	g.LeaderWait = 5 * time.Second
	gr := grid.DefaultConfig()
	gr.PlanInterval = 50 * time.Millisecond
	gr.Store.Now = clock.Now
	return grid.MemberConfig{Cluster: c, Transport: transport.DefaultLocalConfig(), Globals: g, Grid: gr,
		Seeds: seeds, JoinTimeout: 10 * time.Second, Logger: discard()}
}

// testGrid is three gridnode servers in this process: real gossip, Raft,
// internal transport and RESP listeners on loopback.
type testGrid struct {
	clock *gridClock
	seeds []string // gossip
	addrs []string // RESP
	nodes []*grid.Member
}

// startGrid starts the grid; mods change each server's configuration.
func startGrid(t *testing.T, mods ...func(*server.Config)) *testGrid {
	t.Helper()
	g := &testGrid{clock: &gridClock{}}
	g.clock.set(time.Now)
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg := memberConfig(fmt.Sprint("s", i), cluster.RoleServer, 3, g.seeds, g.clock)
		cfg.Cluster.Addrs.Client = l.Addr().String()
		m, err := grid.StartMember(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		b := gridserver.New(m)
		scfg := server.DefaultConfig()
		scfg.Logger = discard()
		for _, mod := range mods {
			mod(&scfg)
		}
		srv, err := server.New(scfg, b)
		if err != nil {
			t.Fatal(err)
		}
		b.ServeForwarded(srv.ExecBatch)
		go srv.Serve(l)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
			m.Close(ctx)
		})
		g.seeds = append(g.seeds, m.Cluster.GossipAddr())
		g.addrs = append(g.addrs, l.Addr().String())
		g.nodes = append(g.nodes, m)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, m := range g.nodes {
		if err := m.WaitReady(wctx); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// wipe empties the grid between rules: every key and every global, and
// checks that it did. Evicting a global is a Raft write: when the leader
// loses its lease (a loaded machine under -race can starve it), it fails
// with ErrUnavailable, and a wipe that ignored that left the previous
// rule's globals to the next rule (Bounds/ValueTooLarge, which follows the
// only Bounds rule that saves a global, failed with an extra global). An
// eviction is idempotent, so an unavailable one is tried again until the
// grid is empty or the deadline passes.
func wipe(t *testing.T, r *grid.Router) {
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
			t.Fatalf("wipe: globals: %v", err)
		}
		if ctx.Err() != nil {
			t.Fatalf("wipe: globals left after 30 s: %d, last error %v", len(all), err)
		}
		if err != nil {
			t.Logf("wipe: globals: %v (trying again)", err)
		}
	}
}

// TestGridConformance runs the contract's suite against an embedded peer
// and against the smart client, both on a 3-node grid.
func TestGridConformance(t *testing.T) {
	g := startGrid(t)
	p, err := peer.Start(context.Background(), peer.Config{Member: memberConfig("bot-1", "", 0, g.seeds, g.clock)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The drain hands every partition the peer holds over (a learner
		// filled, promoted, a primary switch, the copy dropped — each a
		// table change): under -race on a loaded 2-core machine that takes
		// tens of seconds.
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			t.Errorf("peer leave: %v", err)
		}
	})
	router := p.Member().Node.Router(nil) // Close is a no-op: the suite closes managers per rule
	t.Run("EmbeddedPeer", func(t *testing.T) {
		sessiontest.Run(t, func(t *testing.T, env sessiontest.Env) session.Manager {
			g.clock.set(env.Now)
			wipe(t, router)
			return session.NewManager(router, session.Config{})
		})
	})
	t.Run("SmartClient", func(t *testing.T) {
		sessiontest.Run(t, func(t *testing.T, env sessiontest.Env) session.Manager {
			g.clock.set(env.Now)
			wipe(t, router)
			s, err := NewSmart(context.Background(), SmartConfig{RemoteConfig: RemoteConfig{Addr: g.addrs[0], Addrs: g.addrs[1:]}})
			if err != nil {
				t.Fatal(err)
			}
			return session.NewManager(s, session.Config{})
		})
	})
	g.clock.set(time.Now)
	if p.Member().Node.Held() == 0 {
		t.Error("the embedded peer owned no partition")
	}
}

// TestSmartClientRoutesToOwners checks the smart client's table: every
// session's partition maps to its owner's address, and a write through the
// smart client is read back through every node.
func TestSmartClientRoutesToOwners(t *testing.T) {
	g := startGrid(t)
	ctx := context.Background()
	s, err := NewSmart(ctx, SmartConfig{RemoteConfig: RemoteConfig{Addr: g.addrs[0]}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if s.Epoch() == 0 {
		t.Fatal("no table fetched")
	}
	for i := 0; i < 100; i++ {
		id := fmt.Sprint("user-", i)
		owner := g.nodes[0].Node.Owner(id)
		var addr string
		for _, m := range g.nodes {
			if m.Node.Name() == owner {
				addr = m.Cluster.Local().Addrs.Client
			}
		}
		if got := s.pick(id).cfg.Addr; got != addr {
			t.Fatalf("%s: smart client picks %s, owner %s is at %s", id, got, owner, addr)
		}
		if _, err := s.Save(ctx, id, session.Field{Key: "k", Value: []byte(id)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range g.addrs {
		r, _ := NewRemote(RemoteConfig{Addr: a})
		for i := 0; i < 100; i++ {
			id := fmt.Sprint("user-", i)
			if v, err := r.Get(ctx, id, "k"); err != nil || string(v) != id {
				t.Fatalf("via %s: %s = %q, %v", a, id, v, err)
			}
		}
		r.Close(ctx)
	}
	if _, err := NewSmart(ctx, SmartConfig{RemoteConfig: RemoteConfig{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1}}); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("smart client with no reachable seed: %v", err)
	}
}

// TestPipelinedNOAUTHAcrossMembers: on a real 3-member grid whose servers
// require a password, a pipeline of unauthenticated writes sent to one
// member on sessions the two others own gets NOAUTH for each command, and
// no session is written on any member. The test fails if the pipelined
// batch path (server batchable) forwards without checking authentication:
// the owners run forwarded commands as authenticated.
func TestPipelinedNOAUTHAcrossMembers(t *testing.T) {
	g := startGrid(t, func(c *server.Config) { c.Password = "s3cret" })
	ctx := context.Background()
	self := g.nodes[0].Node
	perOwner := map[string]int{}
	var ids []string
	for i := 0; len(ids) < 8 && i < 10000; i++ {
		id := fmt.Sprint("user-", i)
		if o := self.Owner(id); o != self.Name() && o != "" && perOwner[o] < 4 {
			perOwner[o]++
			ids = append(ids, id)
		}
	}
	if len(perOwner) != 2 || len(ids) != 8 {
		t.Fatalf("sessions owned by the other members: %v", perOwner)
	}
	var req strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&req, "*4\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n$1\r\nf\r\n$1\r\nv\r\n", len(id), id)
	}
	conn, err := net.Dial("tcp", g.addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write([]byte(req.String())); err != nil { // one write: one pipeline
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	for _, id := range ids {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimRight(line, "\r\n"); got != "-NOAUTH Authentication required." {
			t.Fatalf("unauthenticated pipelined HSET %s (owned by %s): %q, want NOAUTH", id, self.Owner(id), got)
		}
	}
	router := self.Router(nil)
	for _, id := range ids {
		if ok, err := router.Exists(ctx, id, "f"); err != nil || ok {
			t.Fatalf("session %s written on its owner %s by an unauthenticated pipeline (exists %v, %v)", id, self.Owner(id), ok, err)
		}
	}
}
