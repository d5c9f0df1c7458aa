package grid

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// msgPublish carries messages published on one member (PUBLISH, keyspace
// notifications) to every other member's subscribers.
const msgPublish uint16 = 0x020D

// Bounds of the Pub/Sub broadcast: messages waiting to be sent (past it
// they are dropped and counted), messages per frame, and the time one
// frame may take to reach a member.
const (
	publishQueue   = 8192
	publishBatch   = 512
	publishTimeout = 2 * time.Second
)

// bus is a member's side of the grid-wide Pub/Sub: one queue of messages
// published here, sent in order, in frames, to every other member.
type bus struct {
	q       chan [2][]byte
	sink    atomic.Pointer[func(channel, message []byte)]
	dropped atomic.Uint64 // messages dropped because the queue was full
	failed  atomic.Uint64 // frames a member did not acknowledge

	wmu     sync.Mutex // guards watches
	watches map[int]func(session.Event)
	wnext   int
	wsnap   atomic.Pointer[[]func(session.Event)]

	remote atomic.Pointer[func(session.Event)] // WatchGrid's: events other members broadcast
}

// Broadcast queues a message published on this member for every other
// member. It never blocks: when the queue is full the message is dropped
// and counted (PubsubStats). It copies channel and message.
func (n *Node) Broadcast(channel, message []byte) {
	m := [2][]byte{append([]byte(nil), channel...), append([]byte(nil), message...)}
	select {
	case n.bus.q <- m:
	default:
		n.bus.dropped.Add(1)
	}
}

// OnBroadcast sets the function that receives the messages other members
// broadcast (a RESP server's local delivery). fn must not block.
func (n *Node) OnBroadcast(fn func(channel, message []byte)) { n.bus.sink.Store(&fn) }

// PubsubStats returns the messages dropped because the broadcast queue
// was full and the frames a member failed to acknowledge.
func (n *Node) PubsubStats() (dropped, failed uint64) {
	return n.bus.dropped.Load(), n.bus.failed.Load()
}

// publishLoop sends the queued messages, a frame at a time, to every other
// member in parallel; the next frame waits until each member acknowledged
// or publishTimeout passed, so each member gets the messages in order.
func (n *Node) publishLoop() {
	for {
		var first [2][]byte
		select {
		case <-n.stop:
			return
		case first = <-n.bus.q:
		}
		items := [][]byte{first[0], first[1]}
	gather:
		for len(items) < 2*publishBatch {
			select {
			case m := <-n.bus.q:
				items = append(items, m[0], m[1])
			default:
				break gather
			}
		}
		n.sendPublish(appendList(nil, items...))
	}
}

func (n *Node) sendPublish(frame []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, mb := range n.mem.Members() {
		if identity(mb) == n.self || mb.Addrs.Transport == "" ||
			(mb.State != cluster.StateAlive && mb.State != cluster.StateSuspect) {
			continue
		}
		wg.Add(1)
		go func(addr string) {
			defer wg.Done()
			if _, err := n.tr.Call(ctx, addr, msgPublish, frame); err != nil {
				n.bus.failed.Add(1)
				n.logger.Debug("a member did not take published messages", "addr", addr, "err", err)
			}
		}(mb.Addrs.Transport)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-n.stop:
		cancel()
		<-done
	}
}

// handlePublish delivers the messages another member broadcast.
func (n *Node) handlePublish(_ context.Context, b []byte) ([]byte, error) {
	items, rest, err := decodeList(b)
	if err != nil || len(rest) != 0 || len(items)%2 != 0 {
		return nil, fmt.Errorf("%w: published messages", errMalformed)
	}
	if p := n.bus.sink.Load(); p != nil {
		for i := 0; i < len(items); i += 2 {
			(*p)(items[i], items[i+1])
		}
	}
	if r := n.bus.remote.Load(); r != nil {
		for i := 0; i < len(items); i += 2 {
			switch string(items[i]) {
			case "__keyevent@0__:expired":
				(*r)(session.Event{Type: session.EventExpired, ID: string(items[i+1])})
			case "__keyevent@0__:del":
				(*r)(session.Event{Type: session.EventDeleted, ID: string(items[i+1])})
			}
		}
	}
	return nil, nil
}

// WatchGrid reports the whole grid's expired and deleted sessions to fn
// (one function at a time; nil stops): those of the partitions this member
// leads as Watch does, and those other members broadcast in keyspace
// notifications on __keyevent@0__:expired and __keyevent@0__:del (gridnodes
// with --notify-keyspace-events including E, x and g; embedded peers with
// peer.Config.NotifyKeyspaceEvents). fn is called from the transport's and
// the stores' goroutines, possibly under locks: it must not block.
func (n *Node) WatchGrid(fn func(session.Event)) (cancel func()) {
	stop := n.Watch(fn)
	n.bus.remote.Store(&fn)
	var once sync.Once
	return func() {
		once.Do(func() {
			stop()
			n.bus.remote.CompareAndSwap(&fn, nil)
		})
	}
}

// Watch implements session.Watcher for the partitions this member leads
// (a RESP server publishes them; see WatchGrid for the whole grid's):
// fn gets each session or string that expired (decided by this member's
// sweep or by a read or write that found it expired) and each one a call
// deleted here. Backups never report: every event is reported once in the
// grid, by the partition's primary. fn is called under the partition
// store's locks: it must not block or call the grid.
func (n *Node) Watch(fn func(session.Event)) (cancel func()) {
	b := &n.bus
	b.wmu.Lock()
	if b.watches == nil {
		b.watches = map[int]func(session.Event){}
	}
	id := b.wnext
	b.wnext++
	b.watches[id] = fn
	b.publishWatchesLocked()
	b.wmu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.wmu.Lock()
			delete(b.watches, id)
			b.publishWatchesLocked()
			b.wmu.Unlock()
		})
	}
}

func (b *bus) publishWatchesLocked() {
	fns := make([]func(session.Event), 0, len(b.watches))
	for _, fn := range b.watches {
		fns = append(fns, fn)
	}
	b.wsnap.Store(&fns)
}

// watchStore reports s's events while s is pt's store and pt is led here.
func (n *Node) watchStore(pt *part, s *memory.Store) {
	s.Watch(func(e session.Event) {
		p := n.bus.wsnap.Load()
		if p == nil || !pt.primary.Load() || pt.store.Load() != s {
			return
		}
		for _, fn := range *p {
			fn(e)
		}
	})
}
