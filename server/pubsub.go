package server

import (
	"strconv"
	"sync"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/glob"
)

// Broadcaster is the optional capability of a Backend that carries
// published messages (PUBLISH, keyspace notifications) to the other members
// of a grid. The server finds it by type assertion in New.
type Broadcaster interface {
	// Broadcast sends a message published on this member to every other
	// member's server. Called from any goroutine, often under locks: it
	// must not block (queue, and drop and count when the queue is full). It
	// must copy what it keeps of the slices.
	Broadcast(channel, message []byte)
	// OnBroadcast registers fn, called with every message another member
	// broadcast; New calls it once. fn does not block and does not keep the
	// slices.
	OnBroadcast(fn func(channel, message []byte))
}

// PubsubStatser is the optional capability of a Broadcaster that counts
// the messages it lost: dropped (its queue was full) and failed (frames a
// member did not acknowledge). The server exports them as metrics.
type PubsubStatser interface {
	PubsubStats() (dropped, failed uint64)
}

// DefaultPubsubOutputLimit is Config.PubsubOutputLimit's default: Redis's
// hard limit of "client-output-buffer-limit pubsub 32mb 8mb 60".
const DefaultPubsubOutputLimit = 32 << 20

// hub is the server's registry of subscriptions: who receives what is
// published on this member.
type hub struct {
	mu       sync.RWMutex // guards channels and patterns
	channels map[string]map[*subscriber]struct{}
	patterns map[string]map[*subscriber]struct{}
}

func newHub() *hub {
	return &hub{channels: map[string]map[*subscriber]struct{}{}, patterns: map[string]map[*subscriber]struct{}{}}
}

func (h *hub) add(m map[string]map[*subscriber]struct{}, name string, sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := m[name]
	if set == nil {
		set = map[*subscriber]struct{}{}
		m[name] = set
	}
	set[sub] = struct{}{}
}

func (h *hub) remove(m map[string]map[*subscriber]struct{}, name string, sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if set := m[name]; set != nil {
		delete(set, sub)
		if len(set) == 0 {
			delete(m, name)
		}
	}
}

// target is one delivery of a publish: a subscriber, by channel or pattern.
type target struct {
	sub     *subscriber
	pattern string // "" for a channel subscription
}

// publish delivers message to this member's subscribers of channel and of
// the patterns matching it, and returns how many deliveries it made (each
// matching pattern counts, as in Redis). It never blocks on a subscriber.
// self, when not nil, is the connection whose command publishes: what it
// receives goes into its replies at this point, as in Redis.
func (h *hub) publish(channel, message []byte, self *conn) int {
	ch := string(channel)
	var ts []target
	h.mu.RLock()
	for sub := range h.channels[ch] {
		ts = append(ts, target{sub: sub})
	}
	for pat, set := range h.patterns {
		if glob.Match(pat, ch) {
			for sub := range set {
				ts = append(ts, target{sub: sub, pattern: pat})
			}
		}
	}
	h.mu.RUnlock()
	if len(ts) == 0 {
		return 0
	}
	var enc [2][]byte // RESP2, RESP3 encodings of the channel message
	n := 0
	for _, t := range ts {
		var b []byte
		if t.pattern == "" {
			p := 0
			if t.sub.resp3() {
				p = 1
			}
			if enc[p] == nil {
				enc[p] = encodeMessage(p == 1, "", ch, message)
			}
			b = enc[p]
		} else {
			b = encodeMessage(t.sub.resp3(), t.pattern, ch, message)
		}
		if self != nil && t.sub == self.ps {
			if t.sub.deliverTo(&self.out, t.pattern, ch, b) {
				n++
			}
		} else if t.sub.deliver(t.pattern, ch, b) {
			n++
		}
	}
	return n
}

// encodeMessage returns a "message" (pattern "") or "pmessage" push.
func encodeMessage(resp3 bool, pattern, channel string, message []byte) []byte {
	w := replies{resp3: resp3}
	if pattern == "" {
		w.push(3)
		w.bulkString("message")
	} else {
		w.push(4)
		w.bulkString("pmessage")
		w.bulkString(pattern)
	}
	w.bulkString(channel)
	w.bulk(message)
	return w.b
}

// push starts a RESP3 push of n elements (">n"); an array in RESP2.
func (w *replies) push(n int) {
	if w.resp3 {
		w.b = append(w.b, '>')
		w.b = strconv.AppendInt(w.b, int64(n), 10)
		w.b = append(w.b, '\r', '\n')
		return
	}
	w.array(n)
}

// subscriber is the Pub/Sub side of a connection, made at its first
// (P)SUBSCRIBE. From then on every byte the connection sends goes through
// its queue and its writer goroutine, so that publishers, which only
// append to the queue, never wait for the client; a queue over
// Config.PubsubOutputLimit disconnects the client.
type subscriber struct {
	c     *conn
	limit int

	mu        sync.Mutex // guards the fields below
	channels  map[string]struct{}
	patterns  map[string]struct{}
	pending   []byte // output the writer has not taken yet
	inflight  int    // bytes the writer is writing now
	closed    bool   // no more output: disconnected or finished
	finishing bool   // write what is pending, then stop
	proto3    bool

	wake chan struct{} // capacity 1: output is pending
	done chan struct{} // closed when the writer returns
}

// subscriber returns the connection's Pub/Sub side, starting its writer.
func (c *conn) subscriber() *subscriber {
	if c.ps != nil {
		return c.ps
	}
	sub := &subscriber{
		c: c, limit: c.s.cfg.PubsubOutputLimit,
		channels: map[string]struct{}{}, patterns: map[string]struct{}{},
		proto3: c.out.resp3,
		wake:   make(chan struct{}, 1), done: make(chan struct{}),
	}
	c.ps = sub
	go sub.writeLoop() // owned by the connection: endPubsub waits for it
	return sub
}

func (sub *subscriber) resp3() bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.proto3
}

// count returns the number of channels and patterns subscribed.
func (sub *subscriber) count() int {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return len(sub.channels) + len(sub.patterns)
}

// deliver queues a message published on channel (pattern "" for a channel
// subscription) if the subscription still holds.
func (sub *subscriber) deliver(pattern, channel string, b []byte) bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.holdsLocked(pattern, channel) && sub.enqueueLocked(b)
}

// deliverTo appends a message for the connection's own command to its
// replies (called by the connection's goroutine).
func (sub *subscriber) deliverTo(out *replies, pattern, channel string, b []byte) bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if !sub.holdsLocked(pattern, channel) {
		return false
	}
	out.b = append(out.b, b...)
	return true
}

func (sub *subscriber) holdsLocked(pattern, channel string) bool {
	if pattern == "" {
		_, ok := sub.channels[channel]
		return ok
	}
	_, ok := sub.patterns[pattern]
	return ok
}

// enqueueLocked appends b to the output, or disconnects the client when
// its output would pass the limit.
func (sub *subscriber) enqueueLocked(b []byte) bool {
	if sub.closed {
		return false
	}
	if len(sub.pending)+sub.inflight+len(b) > sub.limit {
		sub.closed = true
		sub.pending = nil
		sub.c.s.metrics.pubsubSlow.Add(1)
		sub.c.s.log.Warn("closing a Pub/Sub client over the output limit (client-output-buffer-limit pubsub)",
			"remote", sub.c.nc.RemoteAddr().String(), "limit_bytes", sub.limit)
		sub.c.nc.Close() // the reader and the writer fail; the connection ends
		return false
	}
	sub.pending = append(sub.pending, b...)
	select {
	case sub.wake <- struct{}{}:
	default:
	}
	return true
}

// writeLoop writes the queued output until the connection ends.
func (sub *subscriber) writeLoop() {
	defer close(sub.done)
	for {
		sub.mu.Lock()
		for len(sub.pending) == 0 && !sub.closed && !sub.finishing {
			sub.mu.Unlock()
			<-sub.wake
			sub.mu.Lock()
		}
		if sub.closed || len(sub.pending) == 0 { // closed, or finished
			sub.closed = true
			sub.mu.Unlock()
			return
		}
		b := sub.pending
		sub.pending = nil
		sub.inflight = len(b)
		sub.mu.Unlock()

		n, err := sub.c.nc.Write(b)
		sub.c.outBytes.Add(int64(n))

		sub.mu.Lock()
		sub.inflight = 0
		if err != nil {
			sub.closed = true
			sub.mu.Unlock()
			sub.c.nc.Close()
			return
		}
		sub.mu.Unlock()
	}
}

// flushPubsub hands the connection's buffered replies to the writer.
func (c *conn) flushPubsub() bool {
	sub := c.ps
	sub.mu.Lock()
	ok := sub.enqueueLocked(c.out.b)
	sub.mu.Unlock()
	c.out.b = c.out.b[:0]
	return ok
}

// pubsubLinger bounds the time the writer has to send the last replies of
// a connection that ends (QUIT).
const pubsubLinger = time.Second

// endPubsub forgets the connection's subscriptions and stops its writer,
// letting it write what is queued first (for at most pubsubLinger).
func (c *conn) endPubsub() {
	sub := c.ps
	if sub == nil {
		return
	}
	c.dropSubscriptions()
	sub.mu.Lock()
	sub.finishing = true
	sub.mu.Unlock()
	select {
	case sub.wake <- struct{}{}:
	default:
	}
	c.nc.SetWriteDeadline(time.Now().Add(pubsubLinger))
	<-sub.done
}

// pubsubCounts returns the subscribed channels and patterns of this member
// (for PUBSUB and INFO).
func (h *hub) counts() (channels, patterns int) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.channels), len(h.patterns)
}

// dropSubscriptions removes every subscription of the connection without
// replies (RESET); its writer keeps sending its replies.
func (c *conn) dropSubscriptions() {
	sub := c.ps
	if sub == nil {
		return
	}
	sub.mu.Lock()
	chans, pats := sub.channels, sub.patterns
	sub.channels, sub.patterns = map[string]struct{}{}, map[string]struct{}{}
	sub.mu.Unlock()
	for ch := range chans {
		c.s.hub.remove(c.s.hub.channels, ch, sub)
	}
	for p := range pats {
		c.s.hub.remove(c.s.hub.patterns, p, sub)
	}
}
