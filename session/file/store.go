package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// stripeCount is the number of lock stripes of the session space.
const stripeCount = 1024

// Store is a session store keeping one file per session under a directory.
// It implements session.Store and session.Sweeper. Create it with New.
// Its session methods (Save, Get, GetAll, Exists, Evict, Clear, SaveProp,
// GetProp, Props, EvictProp, SetExpiry, TTL) behave as session.Store
// documents; each write of a session is one atomic rewrite of its file.
type Store struct {
	// sessionOps provides the session methods of session.Store (Save, Get,
	// …, TTL) on top of update and read.
	sessionOps

	cfg      Config
	hash     func(string) nameHash
	lock     *dirLock
	sessions space
	globals  space

	// stripes guard the session chains: stripe i guards every chain whose
	// hash maps to i, so all ids of one chain share one lock.
	stripes [stripeCount]sync.RWMutex
	gmu     sync.RWMutex // guards the globals directory

	// mu is read-held by every operation and write-held by Close, which
	// thereby waits for operations in flight.
	mu     sync.RWMutex
	closed bool // guarded by mu

	closing atomic.Bool // set when Close starts; a fast check before mu

	stopCtx context.Context // cancelled by Close; stops sweeps
	stop    context.CancelFunc
	wg      sync.WaitGroup // the sweeper goroutine

	expired atomic.Uint64
	corrupt atomic.Uint64
}

// Stats are counters of a Store since New.
type Stats struct {
	// Expired is the number of expired sessions whose files were removed.
	Expired uint64
	// Corrupt is the number of times a corrupt file was met.
	Corrupt uint64
}

// sessionOps names record.Sessions so that Store embeds it in an
// unexported field: its methods are promoted, the field stays private.
type sessionOps = record.Sessions

var (
	_ session.Store   = (*Store)(nil)
	_ session.Sweeper = (*Store)(nil)
)

// New opens (creating if needed) the store in cfg.Dir. It fails with an
// error matching ErrLocked when another Store holds the directory. Its
// sweeper goroutine, if any, stops at Close.
func New(cfg Config) (*Store, error) {
	return newStore(cfg, sha256Name)
}

func newStore(cfg Config, hash func(string) nameHash) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("file: %w", err)
	}
	lock, err := lockDir(filepath.Join(cfg.Dir, lockFile))
	if err != nil {
		return nil, err
	}
	sessions, globals, err := prepareDir(cfg.Dir, cfg.Fsync)
	if err != nil {
		_ = lock.unlock()
		return nil, err
	}
	s := &Store{cfg: cfg, hash: hash, lock: lock, sessions: sessions, globals: globals}
	s.sessionOps = record.Sessions{
		Update:       s.update,
		Read:         s.read,
		Closing:      s.closing.Load,
		DefaultIdle:  cfg.DefaultIdle,
		MaxValueSize: cfg.MaxValueSize,
		TouchOnRead:  cfg.TouchOnRead,
	}
	s.stopCtx, s.stop = context.WithCancel(context.Background())
	if cfg.SweepInterval > 0 {
		s.wg.Add(1)
		go s.sweepLoop()
	}
	cfg.Logger.Debug("file store opened", "dir", cfg.Dir, "fsync", cfg.Fsync)
	return s, nil
}

// Close stops the sweeper, waits for operations in flight and releases the
// directory lock. It is idempotent; every later call returns
// session.ErrClosed.
func (s *Store) Close(context.Context) error {
	s.closing.Store(true)
	s.stop()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.lock.unlock(); err != nil {
		return fmt.Errorf("file: release lock: %w", err)
	}
	return nil
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	return Stats{Expired: s.expired.Load(), Corrupt: s.corrupt.Load()}
}

// enter starts an operation: it fails once the store is closed or ctx is
// done. A nil error must be paired with leave.
func (s *Store) enter(ctx context.Context) error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return session.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		s.mu.RUnlock()
		return err
	}
	return nil
}

func (s *Store) leave() { s.mu.RUnlock() }

func (s *Store) now() int64 { return s.cfg.Now().UnixNano() }

func (s *Store) stripe(h nameHash) *sync.RWMutex {
	return &s.stripes[(int(h[0])<<8|int(h[1]))%stripeCount]
}

func (s *Store) checkValue(v []byte) error {
	return session.ValidateValue(v, s.cfg.MaxValueSize)
}

// update runs fn under the lock of session id's chain with the live record
// of id (nil when missing or expired). fn returns the record to store, or
// nil to remove the session, and whether anything changed; nothing is
// written when it did not. With reclaim, an expired session that fn leaves
// alone is deleted on the way (as a sweep would). The record fn gets may be
// modified and returned.
func (s *Store) update(ctx context.Context, id string, reclaim bool, fn record.UpdateFunc) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.leave()
	h := s.hash(id)
	mu := s.stripe(h)
	mu.Lock()
	defer mu.Unlock()
	c, err := s.find(&s.sessions, h, id)
	if err != nil {
		return err
	}
	now := s.now()
	var cur *record.Record
	if c.slot >= 0 && c.rec.Live(now) {
		cur = &c.rec
	}
	next, changed := fn(cur, now)
	if !changed && !reclaim {
		return nil
	}
	if c.slot >= 0 && cur == nil {
		// An expired file: replaced or removed below.
		s.expired.Add(1)
	}
	switch {
	case changed && next != nil:
		return s.put(&c, next)
	case c.slot >= 0 && (changed || cur == nil):
		// Removed by fn, or expired and left alone by fn: reclaim it now.
		return s.remove(&c)
	}
	return nil
}

// read runs fn under the lock of session id's chain with the live record of
// id (nil when missing or expired). With touch (Config.TouchOnRead for the
// reads that slide), a live session's idle clock is restarted first.
func (s *Store) read(ctx context.Context, id string, touch bool, fn record.ReadFunc) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.leave()
	h := s.hash(id)
	mu := s.stripe(h)
	if touch {
		mu.Lock()
		defer mu.Unlock()
	} else {
		mu.RLock()
		defer mu.RUnlock()
	}
	c, err := s.find(&s.sessions, h, id)
	if err != nil {
		return err
	}
	now := s.now()
	if c.slot < 0 || !c.rec.Live(now) {
		fn(nil, now)
		return nil
	}
	if touch {
		c.rec.Touched = now
		if err := s.put(&c, &c.rec); err != nil {
			return err
		}
	}
	fn(&c.rec, now)
	return nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

func clone(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}
