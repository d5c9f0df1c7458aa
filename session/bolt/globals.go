package bolt

import (
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// Globals live in their own top-level bucket, so no session id, "global"
// included, can reach them. They never expire.

func (s *Store) checkGlobal(key string) error {
	if s.life.Closing() {
		return session.ErrClosed
	}
	return session.ValidateKey(key)
}

// SaveGlobal implements session.Store.
func (s *Store) SaveGlobal(ctx context.Context, key string, value []byte) error {
	if err := s.checkGlobal(key); err != nil {
		return err
	}
	if err := s.checkValue(value); err != nil {
		return err
	}
	if err := s.life.Enter(ctx); err != nil {
		return err
	}
	defer s.life.Leave()
	return s.write(func(tx *bbolt.Tx) error {
		gb := tx.Bucket(bucketGlobals)
		sl, err := s.lookup(gb, record.KindGlobal, key)
		if err != nil {
			return err
		}
		return gb.Put(sl.key, record.NewGlobal(key, value).Encode())
	})
}

// GetGlobal implements session.Store.
func (s *Store) GetGlobal(ctx context.Context, key string) ([]byte, error) {
	if err := s.checkGlobal(key); err != nil {
		return nil, err
	}
	if err := s.life.Enter(ctx); err != nil {
		return nil, err
	}
	defer s.life.Leave()
	var v []byte
	found := false
	err := s.db.View(func(tx *bbolt.Tx) error {
		sl, err := s.lookup(tx.Bucket(bucketGlobals), record.KindGlobal, key)
		if err != nil || !sl.found {
			return err
		}
		found, v = true, record.Clone(sl.rec.Value)
		return nil
	})
	if err != nil {
		return nil, s.wrap(err)
	}
	if !found {
		return nil, fmt.Errorf("%w: global %q", session.ErrNotFound, record.Truncate(key))
	}
	return v, nil
}

// EvictGlobal implements session.Store.
func (s *Store) EvictGlobal(ctx context.Context, key string) (bool, error) {
	if err := s.checkGlobal(key); err != nil {
		return false, err
	}
	if err := s.life.Enter(ctx); err != nil {
		return false, err
	}
	defer s.life.Leave()
	existed := false
	err := s.write(func(tx *bbolt.Tx) error {
		gb := tx.Bucket(bucketGlobals)
		sl, err := s.lookup(gb, record.KindGlobal, key)
		if err != nil {
			return err
		}
		existed = sl.found
		if !sl.found {
			return s.unchanged()
		}
		return gb.Delete(sl.key)
	})
	if err != nil {
		return false, err
	}
	return existed, nil
}

// Globals implements session.Store: one read transaction, so a consistent
// snapshot. A corrupt record fails the call with ErrCorrupt rather than be
// left out silently.
func (s *Store) Globals(ctx context.Context) (map[string][]byte, error) {
	if s.life.Closing() {
		return nil, session.ErrClosed
	}
	if err := s.life.Enter(ctx); err != nil {
		return nil, err
	}
	defer s.life.Leave()
	out := map[string][]byte{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketGlobals).ForEach(func(k, v []byte) error {
			r, err := s.decode(record.KindGlobal, k, v)
			if err != nil {
				return err
			}
			out[string(r.ID)] = record.Clone(r.Value)
			return nil
		})
	})
	if err != nil {
		return nil, s.wrap(err)
	}
	return out, nil
}
