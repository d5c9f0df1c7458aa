package cache

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/globals"
)

// Store is the bounded session cache. It implements session.Store and
// session.Sweeper. Create it with New; it is safe for concurrent use.
type Store struct {
	cfg      Config
	idle     int64 // default idle timeout in ns; 0 = never
	clock    *clock
	sessions *otter.Cache[string, *entry]
	index    *index

	// globalOps holds the globals and provides SaveGlobal, GetGlobal,
	// EvictGlobal and Globals. Globals live in this plain map beside the
	// cache: they are never evicted and never expire, and no session id
	// reaches them.
	*globalOps

	gen         atomic.Uint64 // last session incarnation drawn
	bytes       atomic.Int64  // payload bytes of the sessions held
	hits        atomic.Uint64
	misses      atomic.Uint64
	evictions   atomic.Uint64
	expirations atomic.Uint64
	swept       atomic.Uint64 // expirations already reported by Sweep

	closed    atomic.Bool
	closeOnce sync.Once
}

// globalOps names globals.Map so that Store embeds it in an unexported
// field: its methods are promoted, the field stays private.
type globalOps = globals.Map

// New returns a Store. The only goroutine it starts is otter's periodic
// clean-up, which Close stops.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Store{
		cfg:   cfg,
		clock: &clock{now: cfg.Now},
		index: newIndex(),
	}
	s.globalOps = globals.New(s.closed.Load, cfg.MaxValueSize)
	if cfg.DefaultIdle > 0 {
		s.idle = int64(cfg.DefaultIdle)
	}
	opts := &otter.Options[string, *entry]{
		ExpiryCalculator: otter.ExpiryWritingFunc(expireAfter),
		OnAtomicDeletion: s.onDeletion,
		Clock:            s.clock,
		Logger:           otterLogger{cfg.Logger},
		// Maintenance runs on the goroutine that triggers it: no goroutine
		// outlives a call, and eviction is done when a write returns. The
		// functions this package runs under otter's locks never call it back.
		Executor: func(fn func()) { fn() },
	}
	if cfg.MaxSessions > 0 {
		opts.MaximumSize = cfg.MaxSessions
	} else {
		opts.MaximumWeight = uint64(cfg.MaxBytes)
		opts.Weigher = weigh
	}
	c, err := otter.New(opts)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	s.sessions = c
	return s, nil
}

// expireAfter gives otter the session's own deadline: the entry expires
// exactly when the store says it does.
func expireAfter(e otter.Entry[string, *entry]) time.Duration {
	at := e.Value.expiresAt()
	if at == 0 {
		return time.Duration(math.MaxInt64)
	}
	return max(time.Duration(at-e.SnapshotAtNano), 1)
}

// weigh is otter's weigher under MaxBytes.
func weigh(_ string, e *entry) uint32 {
	return uint32(min(max(e.bytes, 1), math.MaxUint32))
}

// onDeletion runs under otter's bucket lock of the session on every removal
// or replacement of a value.
func (s *Store) onDeletion(ev otter.DeletionEvent[string, *entry]) {
	s.bytes.Add(-ev.Value.bytes)
	switch ev.Cause {
	case otter.CauseReplacement:
		return
	case otter.CauseOverflow:
		s.evictions.Add(1)
	case otter.CauseExpiration:
		s.expirations.Add(1)
	}
	s.index.remove(ev.Key, ev.Value.gen)
}

func (s *Store) now() int64 { return s.cfg.Now().UnixNano() }

func (s *Store) check(id string) error {
	if s.closed.Load() {
		return session.ErrClosed
	}
	return session.ValidateID(id)
}

// update runs fn on the live session id, atomically: fn is given the
// current value (nil when the session is missing or expired) and returns
// the next one, nil to remove the session, or keep to change nothing.
// A new value is created by fn with s.create.
func (s *Store) update(id string, fn func(cur *entry, now int64) (next *entry, keep bool)) {
	s.sessions.Compute(id, func(cur *entry, found bool) (*entry, otter.ComputeOp) {
		now := s.now()
		stale := false
		if found && !cur.live(now) {
			// otter and the store share the clock and the deadline, so this
			// is a corner otter has not seen yet: the session has expired,
			// and is removed or replaced below, which otter reports as an
			// invalidation or a replacement.
			found, cur, stale = false, nil, true
			s.expirations.Add(1)
		}
		next, keep := fn(cur, now)
		switch {
		case keep:
			if stale {
				return nil, otter.InvalidateOp
			}
			return cur, otter.CancelOp
		case next == nil:
			if !found && !stale {
				return nil, otter.CancelOp
			}
			return nil, otter.InvalidateOp
		default:
			if !found {
				s.index.add(id, next.gen)
			}
			s.bytes.Add(next.bytes)
			return next, otter.WriteOp
		}
	})
}

// create returns a new, empty session value.
func (s *Store) create(id string, now int64) *entry {
	return newEntry(id, s.gen.Add(1), s.idle, now)
}

// load returns the live session id for reading (nil if missing or expired),
// sliding its idle timeout when the store touches on reads, and counts the
// hit or miss.
func (s *Store) load(id string) *entry {
	var e *entry
	if s.cfg.TouchOnRead {
		s.update(id, func(cur *entry, now int64) (*entry, bool) {
			if cur == nil {
				return nil, true
			}
			e = cur.touch(now)
			return e, false
		})
	} else if cur, ok := s.sessions.GetIfPresent(id); ok && cur.live(s.now()) {
		e = cur
	}
	if e == nil {
		s.misses.Add(1)
	} else {
		s.hits.Add(1)
	}
	return e
}

// Close implements session.Store: it stops otter's clean-up goroutine and
// drops every session and global. It is idempotent.
func (s *Store) Close(context.Context) error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.sessions.StopAllGoroutines()
		s.clock.stop()
		s.sessions.InvalidateAll()
		globals.Clear(s.globalOps)
	})
	return nil
}

// otterLogger routes otter's warnings to the store's logger.
type otterLogger struct{ l *slog.Logger }

func (o otterLogger) Warn(ctx context.Context, msg string, err error) {
	o.l.WarnContext(ctx, msg, "component", "otter", "err", err)
}

func (o otterLogger) Error(ctx context.Context, msg string, err error) {
	o.l.ErrorContext(ctx, msg, "component", "otter", "err", err)
}
