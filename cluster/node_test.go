package cluster

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/testpoll"
	"github.com/sessiongrid/sessiongrid/partition"
	"github.com/sessiongrid/sessiongrid/transport"
)

func TestMembersSeeEachOther(t *testing.T) {
	for _, size := range []int{3, 5} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			nodes := startGrid(t, size, func(c *Config) {
				c.Addrs = Addresses{Raft: "127.0.0.1:1", Transport: "127.0.0.1:2", Client: "127.0.0.1:3"}
			})
			for _, n := range nodes {
				if err := n.Ready(); err != nil {
					t.Fatalf("%s not ready: %v", n.Name(), err)
				}
				ms := n.Members()
				for i, m := range ms {
					peer := nodes[i]
					if m.Name != peer.Name() || m.ID != peer.ID() || m.Role != RoleServer ||
						m.Partitions != partition.DefaultCount || m.Addrs.Raft != "127.0.0.1:1" || m.Gossip != peer.GossipAddr() {
						t.Fatalf("%s sees %+v, want %s (id %s)", n.Name(), m, peer.Name(), peer.ID())
					}
				}
			}
		})
	}
}

// A member closed without leaving is declared dead within the configured
// bound; restarted under the same name and port, it rejoins with a new id.
func TestKilledMemberDeclaredDeadAndRejoins(t *testing.T) {
	nodes := startGrid(t, 3, nil)
	sub := nodes[0].Subscribe()
	defer sub.Close()
	victim := nodes[2]
	oldID, port := victim.ID(), victim.ml.LocalNode().Port
	_, hi := victim.Config().DetectionBounds(3)
	killed := time.Now()
	if err := victim.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Generous slack: the machine is shared and -race slows everything.
	testpoll.Until(t, hi+5*time.Second, "n3 declared dead", func() bool {
		return stateOf(nodes[0], "n3") == StateDead && stateOf(nodes[1], "n3") == StateDead
	})
	t.Logf("n3 declared dead after %v (configured bound %v)", time.Since(killed), hi)
	testpoll.Until(t, time.Second, "a fail event", func() bool {
		for {
			select {
			case e := <-sub.C:
				if e.Type == EventFail && e.Member.Name == "n3" {
					return true
				}
			default:
				return false
			}
		}
	})

	restarted, _ := startNode(t, "n3", func(c *Config) { c.BindPort = int(port) })
	if restarted.ID() == oldID {
		t.Fatalf("restarted node kept id %s", oldID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := restarted.Join(ctx, []string{nodes[0].GossipAddr()}); err != nil {
		t.Fatal(err)
	}
	testpoll.Until(t, 10*time.Second, "n3 back with its new id", func() bool {
		m, ok := nodes[1].Member("n3")
		return ok && m.State == StateAlive && m.ID == restarted.ID()
	})
}

func TestGracefulLeave(t *testing.T) {
	nodes := startGrid(t, 3, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := nodes[1].Leave(ctx); err != nil {
		t.Fatal(err)
	}
	_ = nodes[1].Close(ctx)
	testpoll.Until(t, 5*time.Second, "n2 seen as left", func() bool {
		return stateOf(nodes[0], "n2") == StateLeft && stateOf(nodes[2], "n2") == StateLeft
	})
}

// A seed list that names only this node starts a new grid; DNS names work.
func TestJoinSelfAndDNS(t *testing.T) {
	n1, _ := startNode(t, "n1", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	self := "localhost:" + strconv.Itoa(int(n1.ml.LocalNode().Port))
	if err := n1.Join(ctx, []string{self}); err != nil {
		t.Fatalf("join self: %v", err)
	}
	n2, _ := startNode(t, "n2", nil)
	if err := n2.Join(ctx, []string{self}); err != nil {
		t.Fatalf("join by DNS name: %v", err)
	}
	testpoll.Until(t, 5*time.Second, "n1 to see n2", func() bool { return stateOf(n1, "n2") == StateAlive })
}

func TestJoinUnreachableSeed(t *testing.T) {
	n, _ := startNode(t, "lonely", nil)
	if err := n.Ready(); !errors.Is(err, ErrNotJoined) {
		t.Fatalf("Ready before Join = %v, want ErrNotJoined", err)
	}
	// A port nobody listens on (a closed listener's).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err = n.Join(ctx, []string{dead, "no-such-host.invalid:7946"})
	if !errors.Is(err, ErrJoinFailed) || !strings.Contains(err.Error(), dead) {
		t.Fatalf("err = %v, want ErrJoinFailed naming the seed", err)
	}
	if err := n.Ready(); !errors.Is(err, ErrJoinFailed) {
		t.Fatalf("Ready after failed join = %v", err)
	}
	if got := len(n.Members()); got != 1 {
		t.Fatalf("a node whose join failed knows %d members", got)
	}
}

func TestWrongGossipKeyRefused(t *testing.T) {
	key := []byte("0123456789abcdef")
	seed, seedLog := startNode(t, "seed", func(c *Config) { c.SecretKey = key })
	if err := seed.Join(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string][]byte{"wrongkey": []byte("fedcba9876543210"), "nokey": nil} {
		n, nLog := startNode(t, name, func(c *Config) { c.SecretKey = k })
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := n.Join(ctx, []string{seed.GossipAddr()})
		cancel()
		if !errors.Is(err, ErrJoinFailed) {
			t.Fatalf("%s: join err = %v, want ErrJoinFailed", name, err)
		}
		testpoll.Until(t, 5*time.Second, name+": the joiner's log line", func() bool { return nLog.contains("join attempt failed") })
		if stateOf(seed, name) != "" {
			t.Fatalf("%s was admitted", name)
		}
	}
	testpoll.Until(t, 5*time.Second, "the seed's hint", func() bool { return seedLog.contains("gossip key mismatch") })
	// The same key works.
	ok, _ := startNode(t, "goodkey", func(c *Config) { c.SecretKey = key })
	if err := ok.Join(context.Background(), []string{seed.GossipAddr()}); err != nil {
		t.Fatalf("same key: %v", err)
	}
}

func TestPartitionCountMismatchRefused(t *testing.T) {
	seed, seedLog := startNode(t, "seed", nil)
	if err := seed.Join(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	n, nLog := startNode(t, "other", func(c *Config) { c.Partitions = 128 })
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := n.Join(ctx, []string{seed.GossipAddr()})
	if !errors.Is(err, ErrJoinFailed) || !strings.Contains(err.Error(), "partition count") {
		t.Fatalf("err = %v, want ErrJoinFailed about the partition count", err)
	}
	testpoll.Until(t, 5*time.Second, "both sides to log the refusal", func() bool {
		return seedLog.contains("refusing an incompatible member", "partition count 128") &&
			nLog.contains("refusing an incompatible member", "partition count 271")
	})
	if stateOf(seed, "other") != "" || stateOf(n, "seed") != "" {
		t.Fatal("an incompatible member was admitted")
	}
}

// Joining the internal transport's port instead of a gossip port fails
// clearly, and the transport logs what connected to it.
func TestJoinWrongPort(t *testing.T) {
	tl := newTestLog(t)
	tcfg := transport.DefaultLocalConfig()
	tcfg.Logger = tl.logger()
	tr, err := transport.New(tcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close(context.Background())
	n, _ := startNode(t, "confused", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := n.Join(ctx, []string{tr.Addr()}); !errors.Is(err, ErrJoinFailed) {
		t.Fatalf("err = %v, want ErrJoinFailed", err)
	}
	testpoll.Until(t, 5*time.Second, "the transport to log the gossip peer", func() bool {
		return tl.contains("refused a connection", "gossip")
	})
}

// A RESP-speaking client on the gossip port is logged with a hint.
func TestRESPOnGossipPort(t *testing.T) {
	n, l := startNode(t, "n1", nil)
	c, err := net.Dial("tcp", n.GossipAddr())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Write([]byte("*1\r\n$4\r\nPING\r\n"))
	defer c.Close()
	testpoll.Until(t, 5*time.Second, "the hint", func() bool { return l.contains("another protocol") })
}

func TestSubscriptionDropsWhenFull(t *testing.T) {
	var h hub
	s := h.subscribe(1)
	h.publish(Event{Type: EventJoin})
	h.publish(Event{Type: EventJoin})
	if s.Dropped() != 1 {
		t.Fatalf("dropped = %d, want 1", s.Dropped())
	}
	s.Close()
	s.Close()
	h.publish(Event{Type: EventJoin}) // no panic after Close
	if _, ok := <-s.C; !ok {
		t.Fatal("buffered event lost")
	}
	if _, ok := <-s.C; ok {
		t.Fatal("channel not closed")
	}
}

// After a network cut both sides declare the other dead; once healed they
// merge again (the reconnect loop), as memberlist alone would not.
func TestCutAndHeal(t *testing.T) {
	var mu sync.Mutex
	cut := false
	var n3addr string
	var others []string
	blocked := func(self string) func(string) bool {
		return func(addr string) bool {
			mu.Lock()
			defer mu.Unlock()
			if !cut {
				return false
			}
			if self == "n3" {
				return slices.Contains(others, addr)
			}
			return addr == n3addr
		}
	}
	nodes := make([]*Node, 3)
	for i := range nodes {
		name := "n" + strconv.Itoa(i+1)
		nodes[i], _ = startNode(t, name, func(c *Config) { c.Blocked = blocked(name) })
		var seeds []string
		if i > 0 {
			seeds = []string{nodes[0].GossipAddr()}
		}
		if err := nodes[i].Join(context.Background(), seeds); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	n3addr, others = nodes[2].GossipAddr(), []string{nodes[0].GossipAddr(), nodes[1].GossipAddr()}
	mu.Unlock()
	testpoll.Until(t, 10*time.Second, "3 alive members", func() bool { return countState(nodes[2].Members(), StateAlive) == 3 })
	mu.Lock()
	cut = true
	mu.Unlock()
	testpoll.Until(t, 15*time.Second, "both sides to declare the other dead", func() bool {
		return stateOf(nodes[0], "n3") == StateDead && stateOf(nodes[2], "n1") == StateDead && stateOf(nodes[2], "n2") == StateDead
	})
	mu.Lock()
	cut = false
	mu.Unlock()
	testpoll.Until(t, 15*time.Second, "the sides to merge", func() bool {
		for _, n := range nodes {
			if countState(n.Members(), StateAlive) != 3 {
				return false
			}
		}
		return true
	})
}
