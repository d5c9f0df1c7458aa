package bolt

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/lifecycle"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// Store is a session store in a bbolt database file. It implements
// session.Store and session.Sweeper. Create it with New. Its session methods
// (Save, Get, GetAll, Exists, Evict, Clear, SaveProp, GetProp, Props,
// EvictProp, SetExpiry, TTL) behave as session.Store documents; each is one
// transaction, and a write rewrites the session's record.
type Store struct {
	// sessionOps provides the methods of session.Store (Save, Get, …, TTL,
	// SaveGlobal, …, Globals) on top of update, read and the global
	// functions (globals.go).
	sessionOps

	cfg  Config
	db   *bbolt.DB
	hash func(string) idHash // of long ids

	// life admits operations until Close and owns the sweeper goroutine.
	life lifecycle.Gate

	expired atomic.Uint64
	corrupt atomic.Uint64
}

// Stats are counters of a Store since New.
type Stats struct {
	// Expired is the number of expired sessions removed.
	Expired uint64
	// Corrupt is the number of times a corrupt record was met.
	Corrupt uint64
}

// sessionOps names record.Sessions so that Store embeds it in an
// unexported field: its methods are promoted, the field stays private.
type sessionOps = record.Sessions

var (
	_ session.Store   = (*Store)(nil)
	_ session.Sweeper = (*Store)(nil)
)

// New opens (creating if needed) the database at cfg.Path. When another
// process holds the file it waits up to cfg.Timeout, then fails with an
// error matching ErrLocked. Its sweeper goroutine, if any, stops at Close.
func New(cfg Config) (*Store, error) {
	return newStore(cfg, sha256ID)
}

func newStore(cfg Config, hash func(string) idHash) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	db, err := bbolt.Open(cfg.Path, 0o600, &bbolt.Options{
		Timeout:      cfg.Timeout,
		NoSync:       cfg.NoSync,
		FreelistType: bbolt.FreelistMapType,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s is held by another process (waited %v)", ErrLocked, cfg.Path, cfg.Timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", cfg.Path, err)
	}
	db.MaxBatchDelay = cfg.BatchDelay
	if err := initBuckets(db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: %s: %w", cfg.Path, err)
	}
	s := &Store{cfg: cfg, db: db, hash: hash}
	s.sessionOps = record.NewSessions(record.Backend{
		Update: s.update, Read: s.read,
		PutGlobal: s.putGlobal, FindGlobal: s.findGlobal, DeleteGlobal: s.deleteGlobal, AllGlobals: s.allGlobals,
		Gate: &s.life, DefaultIdle: cfg.DefaultIdle, MaxValueSize: cfg.MaxValueSize, TouchOnRead: cfg.TouchOnRead,
	})
	s.life.Open("bolt", cfg.SweepInterval, s.Sweep, cfg.Logger)
	cfg.Logger.Debug("bolt store opened", "path", cfg.Path, "nosync", cfg.NoSync)
	return s, nil
}

// initBuckets creates the buckets of a new database, or checks the format
// of an existing one.
func initBuckets(db *bbolt.DB) error {
	return db.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		switch f := meta.Get(keyFormat); {
		case f == nil:
			if tx.Bucket(bucketSessions) != nil {
				return errors.New("sessions without a format marker: not a sessiongrid database")
			}
			if err := meta.Put(keyFormat, []byte(formatText)); err != nil {
				return err
			}
		case string(f) != formatText:
			return fmt.Errorf("unknown format %q (want %q)", f, formatText)
		}
		for _, name := range [][]byte{bucketSessions, bucketGlobals, bucketExpiry} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close stops the sweeper, waits for operations in flight and closes the
// database, releasing its lock. It is idempotent; every later call returns
// session.ErrClosed.
func (s *Store) Close(context.Context) error {
	return s.life.Close(func() error {
		if err := s.db.Close(); err != nil {
			return fmt.Errorf("bolt: close: %w", err)
		}
		return nil
	})
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	return Stats{Expired: s.expired.Load(), Corrupt: s.corrupt.Load()}
}

func (s *Store) now() int64 { return s.cfg.Now().UnixNano() }

// errNoChange rolls back a write transaction that changed nothing: bbolt
// would otherwise commit it with a meta page write and two fsyncs.
var errNoChange = errors.New("bolt: nothing changed")

// unchanged is what a write transaction that changed nothing returns:
// errNoChange, or nil when batched (an error would make bbolt rerun the
// function alone, which costs more than sharing the batch's commit).
func (s *Store) unchanged() error {
	if s.cfg.Batch {
		return nil
	}
	return errNoChange
}

// write runs fn in a write transaction (batched with Config.Batch). fn may
// run more than once when batched, so it must only assign its results.
func (s *Store) write(fn func(tx *bbolt.Tx) error) error {
	var err error
	if s.cfg.Batch {
		err = s.db.Batch(fn)
	} else {
		err = s.db.Update(fn)
	}
	if errors.Is(err, errNoChange) {
		return nil
	}
	return s.wrap(err)
}

// wrap maps bbolt's errors to the contract's.
func (s *Store) wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		return session.ErrClosed
	case errors.Is(err, berrors.ErrValueTooLarge):
		return fmt.Errorf("%w: session record over bbolt's %d-byte limit", session.ErrTooLarge, bbolt.MaxValueSize)
	case errors.Is(err, ErrCorrupt), errors.Is(err, session.ErrNotFound), errors.Is(err, session.ErrTooLarge):
		return err
	}
	return fmt.Errorf("%w: bolt: %w", session.ErrUnavailable, err)
}

// update runs fn in one write transaction with the live record of session
// id (nil when missing or expired). fn returns the record to store, or nil
// to remove the session, and whether anything changed; nothing is written
// when it did not (the transaction is rolled back, saving a commit). With
// reclaim, an expired session that fn leaves alone is deleted on the way
// (as a sweep would). The expiry index follows the record. fn may run more
// than once (Config.Batch), so it must only assign its results.
func (s *Store) update(ctx context.Context, id string, reclaim bool, fn record.UpdateFunc) error {
	reclaimed := false
	err := s.write(func(tx *bbolt.Tx) error {
		reclaimed = false
		sb, xb := tx.Bucket(bucketSessions), tx.Bucket(bucketExpiry)
		sl, err := s.lookup(sb, record.KindSession, id)
		if err != nil {
			return err
		}
		now := s.now()
		var cur *record.Record
		var oldAt int64
		if sl.found {
			oldAt = sl.rec.ExpiresAt()
			if sl.rec.Live(now) {
				cur = &sl.rec
			}
		}
		next, changed := fn(cur, now)
		if !changed && !(reclaim && sl.found && cur == nil) {
			return s.unchanged()
		}
		reclaimed = sl.found && cur == nil
		switch {
		case changed && next != nil:
			return s.putSession(sb, xb, sl, oldAt, next)
		case sl.found && (changed || cur == nil):
			// Removed by fn, or expired and left alone by fn: reclaim it now.
			return s.deleteSession(sb, xb, sl.key, oldAt)
		}
		return nil
	})
	if err == nil && reclaimed {
		s.expired.Add(1)
	}
	return err
}

// putSession stores r under sl.key and moves its expiry index entry.
func (s *Store) putSession(sb, xb *bbolt.Bucket, sl slot, oldAt int64, r *record.Record) error {
	newAt := r.ExpiresAt()
	if err := sb.Put(sl.key, r.Encode()); err != nil {
		return err
	}
	if sl.found && oldAt == newAt {
		return nil
	}
	if sl.found && oldAt != 0 {
		if err := xb.Delete(expiryKey(oldAt, sl.key)); err != nil {
			return err
		}
	}
	if newAt != 0 {
		return xb.Put(expiryKey(newAt, sl.key), nil)
	}
	return nil
}

// deleteSession removes the session at key and its index entry.
func (s *Store) deleteSession(sb, xb *bbolt.Bucket, key []byte, at int64) error {
	if err := sb.Delete(key); err != nil {
		return err
	}
	if at != 0 {
		return xb.Delete(expiryKey(at, key))
	}
	return nil
}

// read runs fn in one transaction with the live record of session id (nil
// when missing or expired); the record's slices are valid only inside fn.
// With touch (Config.TouchOnRead for the reads that slide) it is a write
// transaction that first restarts a live session's idle clock.
func (s *Store) read(ctx context.Context, id string, touch bool, fn record.ReadFunc) error {
	if touch {
		return s.write(func(tx *bbolt.Tx) error {
			sb, xb := tx.Bucket(bucketSessions), tx.Bucket(bucketExpiry)
			sl, err := s.lookup(sb, record.KindSession, id)
			if err != nil {
				return err
			}
			now := s.now()
			if !sl.found || !sl.rec.Live(now) {
				fn(nil, now)
				return s.unchanged()
			}
			oldAt := sl.rec.ExpiresAt()
			sl.rec.Touched = now
			if err := s.putSession(sb, xb, sl, oldAt, &sl.rec); err != nil {
				return err
			}
			fn(&sl.rec, now)
			return nil
		})
	}
	return s.wrap(s.db.View(func(tx *bbolt.Tx) error {
		sl, err := s.lookup(tx.Bucket(bucketSessions), record.KindSession, id)
		if err != nil {
			return err
		}
		now := s.now()
		if !sl.found || !sl.rec.Live(now) {
			fn(nil, now)
			return nil
		}
		fn(&sl.rec, now)
		return nil
	}))
}
