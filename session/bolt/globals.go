package bolt

import (
	bbolt "go.etcd.io/bbolt"

	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// Globals live in their own top-level bucket, so no session id, "global"
// included, can reach them. They never expire. These are the store's
// global functions of record.Sessions, which checks the arguments and
// admits the call first.

// putGlobal is record.Backend.PutGlobal: one write transaction.
func (s *Store) putGlobal(key string, value []byte) error {
	return s.write(func(tx *bbolt.Tx) error {
		gb := tx.Bucket(bucketGlobals)
		sl, err := s.lookup(gb, record.KindGlobal, key)
		if err != nil {
			return err
		}
		return gb.Put(sl.key, record.NewGlobal(key, value).Encode())
	})
}

// findGlobal is record.Backend.FindGlobal: one read transaction.
func (s *Store) findGlobal(key string) ([]byte, bool, error) {
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
		return nil, false, s.wrap(err)
	}
	return v, found, nil
}

// deleteGlobal is record.Backend.DeleteGlobal: one write transaction,
// rolled back when the global is missing.
func (s *Store) deleteGlobal(key string) (bool, error) {
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

// allGlobals is record.Backend.AllGlobals: one read transaction, so a
// consistent snapshot. A corrupt record fails the call with ErrCorrupt
// rather than be left out silently.
func (s *Store) allGlobals() (map[string][]byte, error) {
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
