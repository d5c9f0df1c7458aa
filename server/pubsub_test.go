package server

import (
	"bufio"
	"context"
	"net"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// transcript sends script on a new connection to network/addr and returns
// every byte received until the server closes the connection (the script
// ends with QUIT). The reply to a leading HELLO is dropped: it names the
// server.
func transcript(t *testing.T, network, addr, script string) string {
	t.Helper()
	b, err := sendAndReadAll(t, network, addr, script)
	if err != nil {
		t.Fatalf("%s: reading replies: %v (got %q)", addr, err, b)
	}
	s := string(b)
	if strings.HasPrefix(script, "HELLO") {
		const end = "modules\r\n*0\r\n"
		i := strings.Index(s, end)
		if i < 0 {
			t.Fatalf("%s: no HELLO reply in %q", addr, s)
		}
		s = s[i+len(end):]
	}
	return s
}

// TestPubsubRepliesMatchRedis sends the protocol's edge cases to gridnode
// and to a real redis-server and compares the bytes: subscribed mode in
// RESP2 (refused commands, PING), RESP3 pushes, unsubscribing what is not
// subscribed, RESET, PUBSUB, arity errors and keyspace notifications.
func TestPubsubRepliesMatchRedis(t *testing.T) {
	sock := startRedisServer(t)
	n := startNode(t, Config{})
	cases := []struct{ name, script string }{
		{"resp2 subscribed mode", "SUBSCRIBE a b\r\nGET x\r\nSET x 1\r\nPING\r\nPING hi\r\nHELLO 3\r\nUNSUBSCRIBE b\r\nUNSUBSCRIBE\r\nUNSUBSCRIBE\r\n" +
			"PSUBSCRIBE p*\r\nSUBSCRIBE a\r\nPUNSUBSCRIBE\r\nPUNSUBSCRIBE\r\nUNSUBSCRIBE a\r\nPING\r\nSUBSCRIBE\r\nPUBLISH\r\nQUIT\r\n"},
		{"unsubscribe without subscriptions", "UNSUBSCRIBE\r\nPUNSUBSCRIBE\r\nUNSUBSCRIBE a b\r\nPUNSUBSCRIBE x*\r\nPING\r\nQUIT\r\n"},
		{"resp3 push", "HELLO 3\r\nSUBSCRIBE a\r\nGET x\r\nPING\r\nPING hi\r\nPUBLISH a hello\r\nPSUBSCRIBE a*\r\nPUBLISH a x\r\n" +
			"PUBLISH b y\r\nUNSUBSCRIBE a b\r\nUNSUBSCRIBE\r\nPUBSUB NUMSUB a\r\nPUBSUB NUMPAT\r\nPUNSUBSCRIBE a*\r\nRESET\r\nPING\r\nQUIT\r\n"},
		{"reset leaves subscribed mode", "PSUBSCRIBE *\r\nSUBSCRIBE ch\r\nRESET\r\nGET a\r\nPUBSUB NUMPAT\r\nQUIT\r\n"},
		{"pubsub introspection", "HELLO 3\r\nSUBSCRIBE news.a news.b\r\nPSUBSCRIBE n* m*\r\nPSUBSCRIBE n*\r\nPUBSUB CHANNELS news.a\r\n" +
			"PUBSUB CHANNELS zz*\r\nPUBSUB NUMSUB news.a news.b x\r\nPUBSUB NUMSUB\r\nPUBSUB NUMPAT\r\nPUBLISH news.a m\r\nPUBSUB FOO\r\n" +
			"PUBSUB\r\nPUBLISH a\r\nQUIT\r\n"},
		{"scripts publish", "HELLO 3\r\nSUBSCRIBE a\r\nEVAL \"return redis.call('publish','a','b')\" 0\r\n" +
			"EVAL \"return redis.call('pubsub','numsub','a')\" 0\r\n" +
			"CONFIG SET notify-keyspace-events E$\r\nSUBSCRIBE __keyevent@0__:set\r\nEVAL \"return redis.call('set','k','v')\" 0\r\nQUIT\r\n"},
		{"resp2 publish counts", "PUBLISH nobody m\r\nPUBSUB NUMSUB nobody\r\nPUBSUB CHANNELS\r\nQUIT\r\n"},
		{"keyspace notifications", "HELLO 3\r\nCONFIG SET notify-keyspace-events KEA\r\nPSUBSCRIBE __key*\r\nSET k v\r\nEXPIRE k 100\r\n" +
			"PERSIST k\r\nPERSIST k\r\nHSET h f v g w\r\nHDEL h f\r\nHDEL h nope\r\nHDEL h g\r\nINCR n\r\nDECRBY n 5\r\nDEL n k missing\r\n" +
			"SET s v EX 10\r\nSETEX s2 10 v\r\nSETNX s2 v\r\nSET s3 v NX\r\nEXPIRE s3 0\r\nEXPIRE missing 10\r\n" +
			"CONFIG SET notify-keyspace-events Zq\r\nCONFIG GET notify-keyspace-events\r\nCONFIG SET notify-keyspace-events Eg\r\n" +
			"CONFIG GET notify-keyspace-events\r\nSET k2 v\r\nDEL k2\r\nCONFIG SET notify-keyspace-events K$\r\nSET k3 v\r\nDEL k3\r\n" +
			"CONFIG SET notify-keyspace-events \"\"\r\nSET k4 v\r\nQUIT\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := transcript(t, "unix", sock, tc.script)
			got := transcript(t, "tcp", n.addr, tc.script)
			if got != want {
				t.Errorf("replies differ\nredis:    %q\ngridnode: %q", want, got)
			}
		})
	}
}

// TestPubsubGoRedis drives Subscribe and PSubscribe of go-redis, in RESP2
// and RESP3: messages from another connection, pattern matches, the
// receiver count of PUBLISH, and PUBSUB.
func TestPubsubGoRedis(t *testing.T) {
	protocols(t, func(t *testing.T, proto int) {
		ctx := context.Background()
		n := startNode(t, Config{})
		pub := n.client(t, proto)
		sub := n.client(t, proto).Subscribe(ctx, "news")
		defer sub.Close()
		psub := n.client(t, proto).PSubscribe(ctx, "n*", "x*")
		defer psub.Close()
		for _, s := range []*redis.PubSub{sub, psub} {
			if _, err := s.Receive(ctx); err != nil { // the subscribe confirmation
				t.Fatal(err)
			}
		}
		if _, err := psub.Receive(ctx); err != nil { // the second pattern's
			t.Fatal(err)
		}
		if got, err := pub.Publish(ctx, "news", "hello").Result(); err != nil || got != 2 {
			t.Fatalf("PUBLISH news = %d, %v; want 2 receivers (one channel, one pattern)", got, err)
		}
		if got, err := pub.Publish(ctx, "nothing-here", "x").Result(); err != nil || got != 1 {
			t.Fatalf("PUBLISH nothing-here = %d, %v; want 1 (the pattern n*)", got, err)
		}
		m, err := sub.ReceiveMessage(ctx)
		if err != nil || m.Channel != "news" || m.Payload != "hello" || m.Pattern != "" {
			t.Fatalf("Subscribe got %+v, %v", m, err)
		}
		for _, want := range []redis.Message{{Channel: "news", Pattern: "n*", Payload: "hello"}, {Channel: "nothing-here", Pattern: "n*", Payload: "x"}} {
			m, err := psub.ReceiveMessage(ctx)
			if err != nil || m.Channel != want.Channel || m.Pattern != want.Pattern || m.Payload != want.Payload {
				t.Fatalf("PSubscribe got %+v, %v; want %+v", m, err, want)
			}
		}
		if got, err := pub.PubSubNumSub(ctx, "news", "none").Result(); err != nil || got["news"] != 1 || got["none"] != 0 {
			t.Fatalf("PUBSUB NUMSUB = %v, %v", got, err)
		}
		if got, err := pub.PubSubNumPat(ctx).Result(); err != nil || got != 2 {
			t.Fatalf("PUBSUB NUMPAT = %d, %v", got, err)
		}
		if got, err := pub.PubSubChannels(ctx, "*").Result(); err != nil || len(got) != 1 || got[0] != "news" {
			t.Fatalf("PUBSUB CHANNELS = %v, %v", got, err)
		}
		// Unsubscribing everything ends the subscriptions on the server.
		if err := sub.Unsubscribe(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "no subscriber of news", func() bool {
			got, err := pub.PubSubNumSub(ctx, "news").Result()
			return err == nil && got["news"] == 0
		})
		if got, err := pub.Publish(ctx, "news", "again").Result(); err != nil || got != 1 {
			t.Fatalf("PUBLISH after UNSUBSCRIBE = %d, %v; want 1 (the pattern)", got, err)
		}
	})
}

// TestKeyspaceExpiredEvent: an expiry decided by the store's sweep reaches
// a subscriber of __keyevent@0__:expired once, and the keyspace channel.
func TestKeyspaceExpiredEvent(t *testing.T) {
	ctx := context.Background()
	n := startNode(t, Config{NotifyKeyspaceEvents: "KEx"})
	c := n.client(t, 2)
	sub := n.client(t, 3).Subscribe(ctx, "__keyevent@0__:expired", "__keyspace@0__:263771234567", "marker")
	defer sub.Close()
	for range 3 {
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.HSet(ctx, "263771234567", "stage", "menu").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Expire(ctx, "263771234567", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	n.clock.Advance(2 * time.Minute)
	if _, err := n.store.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := n.store.Sweep(ctx); err != nil { // nothing more to report
		t.Fatal(err)
	}
	if err := c.Publish(ctx, "marker", "end").Err(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		m, err := sub.ReceiveMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.Channel == "marker" {
			break
		}
		got = append(got, m.Channel+" "+m.Payload)
	}
	want := []string{"__keyspace@0__:263771234567 expired", "__keyevent@0__:expired 263771234567"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("events %q, want %q (each once)", got, want)
	}
}

// TestSlowSubscriber: a subscriber that never reads is disconnected once
// its pending output passes the limit, counted in the metric; the
// publisher is never held up and the other subscriber gets every message.
func TestSlowSubscriber(t *testing.T) {
	ctx := context.Background()
	const limit = 4 << 20
	n := startNode(t, Config{PubsubOutputLimit: limit})
	pub := n.client(t, 2)

	slow := n.dial(t) // subscribes, then never reads
	if tcp, ok := slow.(*net.TCPConn); ok {
		tcp.SetReadBuffer(4096)
	}
	if _, err := slow.Write([]byte("SUBSCRIBE feed\r\n")); err != nil {
		t.Fatal(err)
	}
	fast := n.client(t, 2).Subscribe(ctx, "feed")
	defer fast.Close()
	if _, err := fast.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two subscribers", func() bool {
		got, err := pub.PubSubNumSub(ctx, "feed").Result()
		return err == nil && got["feed"] == 2
	})
	var received atomic.Int64
	readerDone := make(chan error, 1)
	go func() {
		for {
			m, err := fast.ReceiveMessage(ctx)
			if err != nil {
				readerDone <- err
				return
			}
			if len(m.Payload) == 16<<10 {
				received.Add(1)
			}
		}
	}()
	// Publish until the slow subscriber is dropped (the reply counts one
	// receiver), then 100 more; at most 10000 messages of 16 KiB (156 MiB).
	payload := strings.Repeat("x", 16<<10)
	sent, disconnected := 0, -1
	for ; sent < 10000 && (disconnected < 0 || sent < disconnected+100); sent++ {
		got, err := pub.Publish(ctx, "feed", payload).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got == 1 && disconnected < 0 {
			disconnected = sent
		}
		// The reading subscriber reads as fast as it can, but the race
		// detector can make it slower than this loop: keep its backlog
		// under 1 MiB so only the subscriber that never reads passes 4 MiB.
		if int64(sent)-received.Load() > 64 {
			waitFor(t, "the reading subscriber to catch up", func() bool { return int64(sent)-received.Load() < 16 })
		}
	}
	if disconnected < 0 {
		t.Fatalf("%d messages of 16 KiB to a subscriber that never reads: still subscribed", sent)
	}
	t.Logf("slow subscriber dropped at message %d (limit %d KiB)", disconnected, limit>>10)
	if got := n.srv.metrics.pubsubSlow.Load(); got != 1 {
		t.Fatalf("gridnode_pubsub_slow_disconnects_total = %v, want 1 (the reading subscriber must keep up within %d KiB)", got, limit>>10)
	}
	// The server closed the slow connection: the publisher's and the
	// reading subscriber's remain.
	waitFor(t, "the slow subscriber's connection closed", func() bool {
		_, open := n.srv.totals()
		return open == 2
	})
	waitFor(t, "the reading subscriber's messages", func() bool { return received.Load() == int64(sent) })
	fast.Close()
	<-readerDone
}

const pyPubsub = `
import sys, time, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), decode_responses=True)
p = r.pubsub()
p.subscribe("chat")
p.psubscribe("sess:*")
for _ in range(2):
    m = p.get_message(timeout=5)
    assert m and m["type"] in ("subscribe", "psubscribe"), m
assert r.publish("chat", "hi") == 1
assert r.publish("sess:1", "ho") == 1
got = []
while len(got) < 2:
    m = p.get_message(timeout=5)
    assert m is not None, got
    got.append((m["type"], m["pattern"], m["channel"], m["data"]))
assert got == [("message", None, "chat", "hi"), ("pmessage", "sess:*", "sess:1", "ho")], got
assert r.pubsub_numsub("chat") == [("chat", 1)], r.pubsub_numsub("chat")
p.unsubscribe("chat")
m = p.get_message(timeout=5)
assert m["type"] == "unsubscribe" and m["data"] == 1, m
# a thread delivering messages to a handler
seen = []
p.close()
p2 = r.pubsub(ignore_subscribe_messages=True)
p2.subscribe(**{"cb": lambda m: seen.append(m["data"])})
t2 = p2.run_in_thread(sleep_time=0.01)
deadline = time.time() + 5
while r.pubsub_numsub("cb")[0][1] != 1 and time.time() < deadline:
    time.sleep(0.01)
r.publish("cb", "one"); r.publish("cb", "two")
while len(seen) < 2 and time.time() < deadline:
    time.sleep(0.01)
t2.stop()
assert seen == ["one", "two"], seen
print("ok")
`

// TestPubsubRedisPy runs redis-py's pubsub(): get_message, patterns,
// unsubscribe and run_in_thread with handlers.
func TestPubsubRedisPy(t *testing.T) {
	py := requireRedisPy(t, "redis")
	n := startNode(t, Config{})
	port := n.port()
	if got := runTool(t, "", py, "-c", pyPubsub, port); got != "ok\n" {
		t.Fatalf("redis-py printed %q", got)
	}
}

// TestPubsubRedisCLI runs redis-cli SUBSCRIBE and PSUBSCRIBE as a user
// would and reads what it prints.
func TestPubsubRedisCLI(t *testing.T) {
	cli := requireTool(t, "redis-cli", "--version")
	ctx := context.Background()
	n := startNode(t, Config{NotifyKeyspaceEvents: "Eg"})
	host, port, _ := strings.Cut(n.addr, ":")
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, cli, "-h", host, "-p", port, "PSUBSCRIBE", "__keyevent@0__:*")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	c := n.client(t, 2)
	waitFor(t, "redis-cli's subscription", func() bool {
		got, err := c.PubSubNumPat(ctx).Result()
		return err == nil && got == 1
	})
	if err := c.Set(ctx, "lock:1", "me", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Del(ctx, "lock:1").Err(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewScanner(out)
	var lines []string
	for len(lines) < 7 && r.Scan() {
		lines = append(lines, r.Text())
	}
	want := []string{"psubscribe", "__keyevent@0__:*", "1", "pmessage", "__keyevent@0__:*", "__keyevent@0__:del", "lock:1"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Fatalf("redis-cli printed %q, want %q (no set event: class $ is off)", lines, want)
	}
}
