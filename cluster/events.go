package cluster

import (
	"sync"
	"sync/atomic"
)

// EventType is the kind of a membership event.
type EventType int

// Membership events.
const (
	// EventJoin: a member appeared (or came back after a failure).
	EventJoin EventType = iota + 1
	// EventUpdate: a member's metadata changed.
	EventUpdate
	// EventLeave: a member left gracefully.
	EventLeave
	// EventFail: a member was declared dead.
	EventFail
)

// String returns the event name.
func (t EventType) String() string {
	switch t {
	case EventJoin:
		return "join"
	case EventUpdate:
		return "update"
	case EventLeave:
		return "leave"
	case EventFail:
		return "fail"
	}
	return "unknown"
}

// Event is a change of membership seen by this node.
type Event struct {
	Type   EventType
	Member Member
}

// Subscription receives membership events on C until Close. Delivery never
// blocks memberlist: when C is full the event is dropped and counted, so a
// subscriber that must not miss changes re-reads Node.Members after a drop
// (or periodically).
type Subscription struct {
	// C delivers the events. It is closed by Close and by Node.Close.
	C       <-chan Event
	c       chan Event
	dropped atomic.Uint64
	hub     *hub
	once    sync.Once
}

// Dropped returns how many events were dropped because C was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close stops delivery and closes C. It is idempotent.
func (s *Subscription) Close() {
	s.hub.remove(s)
}

// hub fans events out to subscriptions.
type hub struct {
	mu     sync.Mutex // guards subs and closed; held while sending (sends never block)
	subs   map[*Subscription]struct{}
	closed bool
}

func (h *hub) subscribe(buffer int) *Subscription {
	c := make(chan Event, buffer)
	s := &Subscription{C: c, c: c, hub: h}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(c)
		s.once.Do(func() {})
		return s
	}
	if h.subs == nil {
		h.subs = make(map[*Subscription]struct{})
	}
	h.subs[s] = struct{}{}
	return s
}

func (h *hub) remove(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, s)
	s.once.Do(func() { close(s.c) })
}

func (h *hub) publish(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		select {
		case s.c <- e:
		default:
			s.dropped.Add(1)
		}
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		s.once.Do(func() { close(s.c) })
	}
	h.subs = nil
}
