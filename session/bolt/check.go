package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// Check verifies the database in one read transaction: bbolt's own page
// consistency check, every session and global record (checksum, structure,
// key matching the id inside), and the expiry index against the sessions
// (each expiring session has exactly its entry). It returns how many
// records it checked; every problem found is in the error (errors.Join),
// record problems matching ErrCorrupt.
func (s *Store) Check(ctx context.Context) (int, error) {
	if err := s.life.Enter(ctx); err != nil {
		return 0, err
	}
	defer s.life.Leave()
	var errs []error
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			errs = append(errs, fmt.Errorf("bolt: %w", err))
		}
		want := map[string]bool{} // index keys the sessions call for
		for _, b := range []struct {
			name []byte
			kind record.Kind
		}{{bucketSessions, record.KindSession}, {bucketGlobals, record.KindGlobal}} {
			err := tx.Bucket(b.name).ForEach(func(k, v []byte) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				r, err := s.decode(b.kind, k, v)
				if err != nil {
					errs = append(errs, err)
					return nil
				}
				if !s.keyHolds(k, r.ID) {
					s.corrupt.Add(1)
					errs = append(errs, fmt.Errorf("%w: key %q holds id %q", ErrCorrupt, record.Truncate(string(k)), record.Truncate(string(r.ID))))
					return nil
				}
				if at := r.ExpiresAt(); b.kind == record.KindSession && at != 0 {
					want[string(expiryKey(at, k))] = true
				}
				n++
				return nil
			})
			if err != nil {
				return err
			}
		}
		err := tx.Bucket(bucketExpiry).ForEach(func(k, _ []byte) error {
			if !want[string(k)] {
				errs = append(errs, fmt.Errorf("%w: stray expiry index entry %q", ErrCorrupt, record.Truncate(string(k))))
			}
			delete(want, string(k))
			return nil
		})
		for k := range want {
			errs = append(errs, fmt.Errorf("%w: missing expiry index entry %q", ErrCorrupt, record.Truncate(k)))
		}
		return err
	})
	if err != nil {
		return n, s.wrap(err)
	}
	return n, errors.Join(errs...)
}

// keyHolds reports whether bucket key k is a key id can have.
func (s *Store) keyHolds(k, id []byte) bool {
	if len(id) <= inlineKeyMax {
		return len(k) == 1+len(id) && k[0] == tagInline && bytes.Equal(k[1:], id)
	}
	want := s.hashedPrefix(string(id))
	return len(k) == len(want)+4 && bytes.HasPrefix(k, want)
}
