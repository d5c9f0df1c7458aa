package memory

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sessiongrid/sessiongrid/session"
)

// watchers is the store's list of session.Watcher callbacks.
type watchers struct {
	mu   sync.Mutex // guards list and next (writers); readers load snap
	list map[int]func(session.Event)
	next int
	snap atomic.Pointer[[]func(session.Event)]
}

// Watch implements session.Watcher: fn is called with every key this store
// removes because it expired (EventExpired) and every key a call deleted
// (EventDeleted), under the key's shard lock: fn must not block or call the
// store.
func (s *Store) Watch(fn func(session.Event)) (cancel func()) {
	w := &s.watch
	w.mu.Lock()
	if w.list == nil {
		w.list = map[int]func(session.Event){}
	}
	id := w.next
	w.next++
	w.list[id] = fn
	w.publishLocked()
	w.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			w.mu.Lock()
			delete(w.list, id)
			w.publishLocked()
			w.mu.Unlock()
		})
	}
}

func (w *watchers) publishLocked() {
	fns := make([]func(session.Event), 0, len(w.list))
	for _, fn := range w.list {
		fns = append(fns, fn)
	}
	w.snap.Store(&fns)
}

// emit reports one event to every watcher; one atomic load when none.
func (s *Store) emit(t session.EventType, id string) {
	p := s.watch.snap.Load()
	if p == nil {
		return
	}
	id = strings.Clone(id) // a watcher may keep it; it may alias a key's block
	for _, fn := range *p {
		fn(session.Event{Type: t, ID: id})
	}
}

// expiredLocked counts and reports a key removed because it expired.
func (s *Store) expiredLocked(id string) {
	s.expired.Add(1)
	s.emit(session.EventExpired, id)
}

var _ session.Watcher = (*Store)(nil)
