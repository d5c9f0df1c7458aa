package bolt

import (
	"context"

	bbolt "go.etcd.io/bbolt"

	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// sweepBatch bounds the sessions one sweep transaction removes, so that a
// sweep after a long pause does not hold the writer lock for long.
const sweepBatch = 1024

// Sweep implements session.Sweeper. It walks the expiry index from its
// oldest entry up to now, so its cost is the number of expired sessions,
// not the number stored, and removes them in transactions of up to 1024.
// A corrupt record is logged, counted in Stats and left in place.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	if err := s.life.Enter(ctx); err != nil {
		return 0, err
	}
	defer s.life.Leave()
	total := 0
	for {
		if err := s.life.Stopped(ctx); err != nil {
			return total, err
		}
		if !s.sweepDue() {
			return total, nil
		}
		var n int
		var more bool
		err := s.write(func(tx *bbolt.Tx) error {
			var err error
			n, more, err = s.sweepTx(tx)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		s.expired.Add(uint64(n))
		if !more {
			return total, nil
		}
	}
}

// sweepDue reports, in a read transaction, whether the oldest index entry
// is due, so that an idle sweep commits (and fsyncs) nothing.
func (s *Store) sweepDue() bool {
	due := false
	_ = s.db.View(func(tx *bbolt.Tx) error {
		k, _ := tx.Bucket(bucketExpiry).Cursor().First()
		at, _, ok := parseExpiryKey(k)
		due = k != nil && (!ok || s.now() >= at)
		return nil
	})
	return due
}

// sweepTx removes up to sweepBatch expired sessions and reports whether
// there may be more.
func (s *Store) sweepTx(tx *bbolt.Tx) (removed int, more bool, err error) {
	sb, xb := tx.Bucket(bucketSessions), tx.Bucket(bucketExpiry)
	now := s.now()
	var due [][]byte
	c := xb.Cursor()
	for k, _ := c.First(); k != nil && len(due) < sweepBatch; k, _ = c.Next() {
		at, _, ok := parseExpiryKey(k)
		if ok && now < at {
			break
		}
		due = append(due, append([]byte(nil), k...)) // k is invalid once we delete
	}
	for _, k := range due {
		if err := xb.Delete(k); err != nil {
			return removed, false, err
		}
		_, key, ok := parseExpiryKey(k)
		if !ok {
			continue
		}
		v := sb.Get(key)
		if v == nil {
			continue // stale entry
		}
		r, err := s.decode(record.KindSession, key, v)
		if err != nil {
			s.cfg.Logger.Warn("bolt: sweep: corrupt session left in place", "err", err)
			continue
		}
		if r.Live(now) {
			// A stale entry of a live session: keep its real one.
			if at := r.ExpiresAt(); at != 0 {
				if err := xb.Put(expiryKey(at, key), nil); err != nil {
					return removed, false, err
				}
			}
			continue
		}
		if err := sb.Delete(key); err != nil {
			return removed, false, err
		}
		removed++
	}
	return removed, len(due) == sweepBatch, nil
}
