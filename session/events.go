package session

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// EventType is what happened to a session or a plain-string key.
type EventType uint8

// Event types, as Hazelcast's entry listeners name them (EntryExpired,
// EntryRemoved).
const (
	// EventExpired: the key's idle timeout or absolute TTL ran out and the
	// store reclaimed it (at the sweep, or when a read or write found it
	// expired): within the store's sweep interval of the deadline.
	EventExpired EventType = iota + 1
	// EventDeleted: the key was removed by a call (Delete, Clear without a
	// retain list, a compare-and-delete, its last key evicted).
	EventDeleted
)

func (t EventType) String() string {
	switch t {
	case EventExpired:
		return "expired"
	case EventDeleted:
		return "deleted"
	}
	return fmt.Sprintf("EventType(%d)", uint8(t))
}

// Event is one change a store decided: the id is the session id (or the
// plain string's key).
type Event struct {
	Type EventType
	ID   string
}

// Watcher is the optional capability of a Store that reports the events it
// decides (the memory store; a grid member for the partitions it leads).
//
// Watch registers fn and returns a function that unregisters it (idempotent;
// after it returns no new call of fn starts, though one already running may
// still finish). fn is called synchronously by the
// goroutine that decided the event, possibly under the store's locks: it
// must not block and must not call the store. Use Listen for a callback that
// may do anything.
type Watcher interface {
	Watch(fn func(Event)) (cancel func())
}

// ListenerQueue is how many events a Listener holds for its callback; past
// it, events are dropped and counted (Listener.Dropped).
const ListenerQueue = 4096

// Listener delivers a store's events to a callback in its own goroutine, in
// the order the store decided them, in the style of Hazelcast's entry
// listeners. Create it with Listen; Close stops it.
type Listener struct {
	cancel  func()
	q       chan Event
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	dropped atomic.Uint64
}

// Listen calls fn with every event m's store decides from now on (expired
// and deleted sessions), from one goroutine the Listener owns: fn may block
// (a slow fn makes events queue, then drop; see ListenerQueue). The store
// must implement Watcher (the memory store does; a grid member reports the
// events of the partitions it leads); otherwise Listen returns an error
// matching errors.ErrUnsupported.
func Listen(m Manager, fn func(Event)) (*Listener, error) {
	w, ok := m.Store().(Watcher)
	if !ok {
		return nil, fmt.Errorf("session: %T does not report events: %w", m.Store(), errors.ErrUnsupported)
	}
	if fn == nil {
		return nil, fmt.Errorf("session: Listen: nil callback")
	}
	l := &Listener{q: make(chan Event, ListenerQueue), stop: make(chan struct{}), done: make(chan struct{})}
	go l.run(fn)
	l.cancel = w.Watch(func(e Event) {
		select {
		case l.q <- e:
		default:
			l.dropped.Add(1)
		}
	})
	return l, nil
}

func (l *Listener) run(fn func(Event)) {
	defer close(l.done)
	for {
		select {
		case e := <-l.q:
			fn(e)
		case <-l.stop:
			return
		}
	}
}

// Dropped returns how many events were dropped because the callback fell
// ListenerQueue events behind.
func (l *Listener) Dropped() uint64 { return l.dropped.Load() }

// Close stops the listener: no event is delivered once it returns (it waits
// for a running callback). Idempotent.
func (l *Listener) Close() {
	l.once.Do(func() {
		l.cancel()
		close(l.stop)
	})
	<-l.done
}
