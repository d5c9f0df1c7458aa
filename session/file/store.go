package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/lifecycle"
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
	// sessionOps provides the methods of session.Store (Save, Get, …, TTL,
	// SaveGlobal, …, Globals) on top of update, read and the global
	// functions (globals.go).
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

	// life admits operations until Close and owns the sweeper goroutine.
	life lifecycle.Gate

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
	s.sessionOps = record.NewSessions(record.Backend{
		Update: s.update, Read: s.read,
		PutGlobal: s.putGlobal, FindGlobal: s.findGlobal, DeleteGlobal: s.deleteGlobal, AllGlobals: s.allGlobals,
		Gate: &s.life, DefaultIdle: cfg.DefaultIdle, MaxValueSize: cfg.MaxValueSize, TouchOnRead: cfg.TouchOnRead,
	})
	s.life.Open("file", cfg.SweepInterval, s.Sweep, cfg.Logger)
	cfg.Logger.Debug("file store opened", "dir", cfg.Dir, "fsync", cfg.Fsync)
	return s, nil
}

// Close stops the sweeper, waits for operations in flight and releases the
// directory lock. It is idempotent; every later call returns
// session.ErrClosed.
func (s *Store) Close(context.Context) error {
	return s.life.Close(func() error {
		if err := s.lock.unlock(); err != nil {
			return fmt.Errorf("file: release lock: %w", err)
		}
		return nil
	})
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	return Stats{Expired: s.expired.Load(), Corrupt: s.corrupt.Load()}
}

func (s *Store) now() int64 { return s.cfg.Now().UnixNano() }

func (s *Store) stripe(h nameHash) *sync.RWMutex {
	return &s.stripes[(int(h[0])<<8|int(h[1]))%stripeCount]
}

// update runs fn under the lock of session id's chain with the live record
// of id (nil when missing or expired). fn returns the record to store, or
// nil to remove the session, and whether anything changed; nothing is
// written when it did not. With reclaim, an expired session that fn leaves
// alone is deleted on the way (as a sweep would). The record fn gets may be
// modified and returned.
func (s *Store) update(ctx context.Context, id string, reclaim bool, fn record.UpdateFunc) error {
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
