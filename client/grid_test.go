package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/gridserver/gridtest"
	"github.com/sessiongrid/sessiongrid/peer"
	"github.com/sessiongrid/sessiongrid/server"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/sessiontest"
)

// startGrid starts three gridnode servers in this process (package
// gridtest); mods change each server's configuration.
func startGrid(t *testing.T, mods ...func(*server.Config)) *gridtest.Grid {
	t.Helper()
	return gridtest.Start(t, gridtest.Options{Server: func(_ int, c *server.Config) {
		for _, mod := range mods {
			mod(c)
		}
	}})
}

// startPeer starts an embedded peer "bot-1" joined to g (cfg.Member is
// set here), closed gracefully when the test ends.
func startPeer(t *testing.T, g *gridtest.Grid, cfg peer.Config) *peer.Peer {
	t.Helper()
	cfg.Member = gridtest.MemberConfig("bot-1", "", 0, g.Seeds, g.Clock)
	p, err := peer.Start(context.Background(), cfg)
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
	return p
}

// TestGridConformance runs the contract's suite against an embedded peer
// and against the smart client, both on a 3-node grid.
func TestGridConformance(t *testing.T) {
	g := startGrid(t)
	p := startPeer(t, g, peer.Config{})
	router := p.Member().Node.Router(nil) // Close is a no-op: the suite closes managers per rule
	t.Run("EmbeddedPeer", func(t *testing.T) {
		sessiontest.Run(t, func(t *testing.T, env sessiontest.Env) session.Manager {
			g.Clock.Set(env.Now)
			gridtest.Wipe(t, router)
			return session.NewManager(router, session.Config{})
		})
	})
	t.Run("SmartClient", func(t *testing.T) {
		sessiontest.Run(t, func(t *testing.T, env sessiontest.Env) session.Manager {
			g.Clock.Set(env.Now)
			gridtest.Wipe(t, router)
			s, err := NewSmart(context.Background(), SmartConfig{RemoteConfig: RemoteConfig{Addr: g.Nodes[0].Addr, Addrs: g.Addrs()[1:]}})
			if err != nil {
				t.Fatal(err)
			}
			return session.NewManager(s, session.Config{})
		})
	})
	g.Clock.Set(time.Now)
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
	s, err := NewSmart(ctx, SmartConfig{RemoteConfig: RemoteConfig{Addr: g.Nodes[0].Addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if s.Epoch() == 0 {
		t.Fatal("no table fetched")
	}
	for i := 0; i < 100; i++ {
		id := fmt.Sprint("user-", i)
		owner := g.Nodes[0].Member.Node.Owner(id)
		var addr string
		for _, n := range g.Nodes {
			if n.Member.Node.Name() == owner {
				addr = n.Member.Cluster.Local().Addrs.Client
			}
		}
		if got := s.pick(id).cfg.Addr; got != addr {
			t.Fatalf("%s: smart client picks %s, owner %s is at %s", id, got, owner, addr)
		}
		if _, err := s.Save(ctx, id, session.Field{Key: "k", Value: []byte(id)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range g.Addrs() {
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
	self := g.Nodes[0].Member.Node
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
	conn, err := net.Dial("tcp", g.Nodes[0].Addr)
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

// concurrently runs fn(0), …, fn(n-1) in n goroutines, waits for them and
// fails the test with their errors.
func concurrently(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
