package client

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/peer"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/server"
	"github.com/sessiongrid/sessiongrid/session"
)

// subscribe connects a client with opts and subscribes it to channels,
// waiting for every confirmation; both close when the test ends.
func subscribe(t *testing.T, opts *redis.Options, channels ...string) (*redis.Client, *redis.PubSub) {
	t.Helper()
	ctx := context.Background()
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	s := c.Subscribe(ctx, channels...)
	t.Cleanup(func() { s.Close() })
	for range channels {
		if _, err := s.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return c, s
}

// TestGridPubsub, on a 3-member grid with a backup per partition: a
// message published on one member reaches the subscribers of every member
// once (PUBLISH counts the publishing member's receivers, as Redis Cluster
// does), and a session expiry decided by its partition's primary reaches a
// subscriber on each member exactly once (the backup, which deletes its
// copy too, reports nothing).
func TestGridPubsub(t *testing.T) {
	ctx := context.Background()
	g := startGrid(t, func(c *server.Config) { c.NotifyKeyspaceEvents = "Exg" })
	var clients []*redis.Client
	var subs []*redis.PubSub
	for _, addr := range g.Addrs() {
		c, s := subscribe(t, &redis.Options{Addr: addr, Protocol: 3}, "__keyevent@0__:expired", "news", "marker")
		clients, subs = append(clients, c), append(subs, s)
	}

	// until reads every subscriber's messages until it has seen a marker
	// from each member, and returns the other messages, in order.
	until := func(round string) [][]string {
		t.Helper()
		for i, c := range clients {
			if err := c.Publish(ctx, "marker", fmt.Sprint(round, i)).Err(); err != nil {
				t.Fatal(err)
			}
		}
		out := make([][]string, len(subs))
		for i, s := range subs {
			markers := 0
			for markers < len(clients) {
				rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				m, err := s.ReceiveMessage(rctx)
				cancel()
				if err != nil {
					t.Fatalf("subscriber on member %d: %v (so far %q)", i, err, out[i])
				}
				if m.Channel == "marker" {
					markers++
					continue
				}
				out[i] = append(out[i], m.Channel+" "+m.Payload)
			}
		}
		return out
	}

	// PUBLISH on member 1 reaches every member's subscriber once.
	if n, err := clients[1].Publish(ctx, "news", "hello").Result(); err != nil || n != 1 {
		t.Fatalf("PUBLISH on member 1 = %d, %v; want 1 (its own subscriber)", n, err)
	}
	for i, got := range until("a") {
		if len(got) != 1 || got[0] != "news hello" {
			t.Fatalf("subscriber on member %d got %q, want [news hello] once", i, got)
		}
	}

	// A session owned by member 0, written through member 2, expires: the
	// owner's sweep decides it.
	key := ""
	for i := 0; key == ""; i++ {
		k := fmt.Sprint("2637700", i)
		owner, err := clients[2].Do(ctx, "GRID.OWNER", k).Slice()
		if err != nil {
			t.Fatal(err)
		}
		if owner[2] == g.Nodes[0].Addr {
			key = k
		}
	}
	// The Go API: a listener through the remote client of member 1.
	remote, err := NewRemote(RemoteConfig{Addr: g.Nodes[1].Addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { remote.Close(ctx) })
	events := make(chan session.Event, 16)
	l, err := session.Listen(session.NewManager(remote, session.Config{}), func(e session.Event) { events <- e })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)

	if err := clients[2].HSet(ctx, key, "stage", "menu").Err(); err != nil {
		t.Fatal(err)
	}
	if err := clients[2].Expire(ctx, key, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	// The expire event was decided by member 2 (it ran the command); the
	// "expire" class is g, subscribed by nobody here: only "expired" counts.
	g.Clock.Set(func() time.Time { return time.Now().Add(time.Hour) })
	t.Cleanup(func() { g.Clock.Set(time.Now) })
	for i, s := range subs {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		m, err := s.ReceiveMessage(rctx)
		cancel()
		if err != nil || m.Channel != "__keyevent@0__:expired" || m.Payload != key {
			t.Fatalf("subscriber on member %d: %+v, %v; want the expiry of %s", i, m, err, key)
		}
	}
	for i, got := range until("b") {
		if len(got) != 0 {
			t.Fatalf("subscriber on member %d got more after the expiry: %q (each event must arrive once)", i, got)
		}
	}
	if n, err := clients[1].Exists(ctx, key).Result(); err != nil || n != 0 {
		t.Fatalf("EXISTS %s after its expiry = %d, %v", key, n, err)
	}

	// The listener saw the expiry once, then a deletion through member 0.
	g.Clock.Set(time.Now)
	if err := clients[0].HSet(ctx, "263779999999", "stage", "menu").Err(); err != nil {
		t.Fatal(err)
	}
	if err := clients[0].Del(ctx, "263779999999").Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []session.Event{{Type: session.EventExpired, ID: key}, {Type: session.EventDeleted, ID: "263779999999"}} {
		select {
		case e := <-events:
			if e != want {
				t.Fatalf("listener got %+v, want %+v", e, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("listener: no %+v", want)
		}
	}
}

// TestGridPubsubOrderAndRate: 20000 messages published through one member,
// pipelined, reach a subscriber on another member all and in order (one
// member's broadcasts are sent in order); the rate is logged (run with -v,
// without -race, for a figure).
func TestGridPubsubOrderAndRate(t *testing.T) {
	ctx := context.Background()
	g := startGrid(t)
	_, sub := subscribe(t, &redis.Options{Addr: g.Nodes[0].Addr}, "feed")
	pc := redis.NewClient(&redis.Options{Addr: g.Nodes[1].Addr})
	t.Cleanup(func() { pc.Close() })
	const total, batch = 20000, 100
	got := make(chan error, 1)
	go func() {
		for i := range total {
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			m, err := sub.ReceiveMessage(rctx)
			cancel()
			if err != nil {
				got <- fmt.Errorf("message %d: %w", i, err)
				return
			}
			if want := fmt.Sprint("m", i); m.Payload != want {
				got <- fmt.Errorf("message %d is %q, want %q", i, m.Payload, want)
				return
			}
		}
		got <- nil
	}()
	start := time.Now()
	for i := 0; i < total; i += batch {
		cmds, err := pc.Pipelined(ctx, func(p redis.Pipeliner) error {
			for j := i; j < i+batch; j++ {
				p.Publish(ctx, "feed", fmt.Sprint("m", j))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cmds {
			if n, _ := c.(*redis.IntCmd).Result(); n != 0 {
				t.Fatalf("PUBLISH on member 1 counted %d receivers there, want 0", n)
			}
		}
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	t.Logf("%d messages published on member 1 reached a subscriber on member 0 in %v: %.0f messages/s", total, d, total/d.Seconds())
}

// TestPeerEvents: an embedded peer publishes the expiries it decides (as
// the primary of its partitions) to the gridnodes' subscribers, and its
// session.Listen listener sees the whole grid's: its own expiries and a
// gridnode's, each once.
func TestPeerEvents(t *testing.T) {
	ctx := context.Background()
	g := startGrid(t, func(c *server.Config) { c.NotifyKeyspaceEvents = "Exg" })
	p := startPeer(t, g, peer.Config{NotifyKeyspaceEvents: "Ex"})
	node := p.Member().Node
	deadline := time.Now().Add(60 * time.Second)
	for node.Held() == 0 { // the planner moves partitions to the new member
		if time.Now().After(deadline) {
			t.Fatal("the embedded peer got no partition in 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// One session led by the peer, one by a gridnode.
	var peerKey, nodeKey string
	for i := 0; peerKey == "" || nodeKey == ""; i++ {
		k := fmt.Sprint("2637711", i)
		if node.Owner(k) == node.Name() {
			if peerKey == "" {
				peerKey = k
			}
		} else if nodeKey == "" {
			nodeKey = k
		}
	}
	events := make(chan session.Event, 16)
	l, err := session.Listen(p.Manager(), func(e session.Event) { events <- e })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	c, sub := subscribe(t, &redis.Options{Addr: g.Nodes[1].Addr}, "__keyevent@0__:expired")
	m := p.Manager()
	for _, k := range []string{peerKey, nodeKey} {
		if err := m.Save(ctx, k, "stage", "menu"); err != nil {
			t.Fatal(err)
		}
	}
	g.Clock.Set(func() time.Time { return time.Now().Add(time.Hour) })
	t.Cleanup(func() { g.Clock.Set(time.Now) })

	want := map[string]bool{peerKey: true, nodeKey: true}
	got := map[string]int{}
	for range 2 {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		msg, err := sub.ReceiveMessage(rctx)
		cancel()
		if err != nil {
			t.Fatalf("RESP subscriber: %v (got %v)", err, got)
		}
		got[msg.Payload]++
	}
	if len(got) != 2 || !want[peerKey] || got[peerKey] != 1 || got[nodeKey] != 1 {
		t.Fatalf("RESP subscriber got %v, want %s (decided by the peer) and %s once each", got, peerKey, nodeKey)
	}
	seen := map[string]int{}
	for range 2 {
		select {
		case e := <-events:
			if e.Type != session.EventExpired {
				t.Fatalf("listener got %+v", e)
			}
			seen[e.ID]++
		case <-time.After(30 * time.Second):
			t.Fatalf("listener: got %v, want both expiries", seen)
		}
	}
	if seen[peerKey] != 1 || seen[nodeKey] != 1 {
		t.Fatalf("listener got %v, want %s and %s once each", seen, peerKey, nodeKey)
	}
	// Nothing more: a marker published after the expiries arrives next.
	if err := c.Publish(ctx, "__keyevent@0__:expired", "marker").Err(); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if msg, err := sub.ReceiveMessage(rctx); err != nil || msg.Payload != "marker" {
		t.Fatalf("after the expiries: %+v, %v; want the marker", msg, err)
	}
	select {
	case e := <-events:
		if e.ID != "marker" {
			t.Fatalf("listener got a second event %+v", e)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the peer's listener did not get the marker broadcast by member 1")
	}
}
