package client

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/session"
)

// The keyspace notification channels Watch subscribes to.
const (
	channelExpired = "__keyevent@0__:expired"
	channelDel     = "__keyevent@0__:del"
)

// watches tracks a Remote's Watch subscriptions so that Close ends them.
type watches struct {
	mu   sync.Mutex // guards list
	list map[*redis.PubSub]func()
}

// Watch implements session.Watcher over Pub/Sub: fn gets the sessions (and
// strings) of the whole grid that expire or are deleted, as gridnode
// publishes them in keyspace notifications — gridnode must run with
// --notify-keyspace-events including E, x (expiries) and g (deletions),
// e.g. "Egx". Every member delivers every event once, so one connection
// sees the grid's events. fn is called from one goroutine per Watch, in
// the order the connection received the events; it should not block for
// long (session.Listen queues for it). Watch returns once the server
// confirmed the subscription (or after the dial and read timeouts; go-redis
// then keeps trying). Events published while the connection is down are
// missed: Pub/Sub keeps nothing. The returned cancel ends the subscription
// and waits for fn's goroutine; Close cancels every Watch.
func (r *Remote) Watch(fn func(session.Event)) (cancel func()) {
	ctx := context.Background()
	ps := r.rdb.Subscribe(ctx, channelExpired, channelDel)
	wctx, stop := context.WithTimeout(ctx, r.cfg.DialTimeout+r.cfg.ReadTimeout)
	if _, err := ps.Receive(wctx); err != nil {
		r.cfg.Logger.Warn("client: Watch: subscribing failed; retrying in the background", "err", err)
	}
	stop()
	ch := ps.Channel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range ch {
			switch m.Channel {
			case channelExpired:
				fn(session.Event{Type: session.EventExpired, ID: m.Payload})
			case channelDel:
				fn(session.Event{Type: session.EventDeleted, ID: m.Payload})
			}
		}
	}()
	var once sync.Once
	cancel = func() {
		once.Do(func() {
			ps.Close()
			<-done
			r.watches.mu.Lock()
			delete(r.watches.list, ps)
			r.watches.mu.Unlock()
		})
	}
	r.watches.mu.Lock()
	if r.watches.list == nil {
		r.watches.list = map[*redis.PubSub]func(){}
	}
	r.watches.list[ps] = cancel
	r.watches.mu.Unlock()
	return cancel
}

// cancelWatches ends every Watch (Close).
func (r *Remote) cancelWatches() {
	r.watches.mu.Lock()
	var cancels []func()
	for _, c := range r.watches.list {
		cancels = append(cancels, c)
	}
	r.watches.mu.Unlock()
	for _, c := range cancels {
		c()
	}
}

// Watch implements session.Watcher through the seed nodes' connection:
// every member delivers the whole grid's events (see Remote.Watch).
func (s *Smart) Watch(fn func(session.Event)) (cancel func()) { return s.seeds.Watch(fn) }

var (
	_ session.Watcher = (*Remote)(nil)
	_ session.Watcher = (*Smart)(nil)
)
