package memory

import (
	"context"
	"strings"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// Record is one key with everything needed to recreate it on another
// store: the unit of partition migration and replication.
type Record struct {
	Key   string
	Kind  session.Kind // KindSession or KindString
	Data  []session.Field
	Props []session.Field
	// Value is the value of a string key.
	Value []byte
	// Idle is the idle timeout (0: never idles out).
	Idle time.Duration
	// Touched is the last touch, Deadline the absolute deadline (zero: none).
	Touched  time.Time
	Deadline time.Time
}

func (e *entry) record(key string) Record {
	r := Record{Key: key, Kind: e.kind, Idle: time.Duration(e.idle), Touched: time.Unix(0, e.touched.Load())}
	if d := e.deadline(); d != 0 {
		r.Deadline = time.Unix(0, d)
	}
	if e.kind == session.KindString {
		r.Value = clone(e.value())
		return r
	}
	e.dataSec().each(func(k string, v []byte) { r.Data = append(r.Data, session.Field{Key: k, Value: clone(v)}) })
	e.propsSec().each(func(k string, v []byte) { r.Props = append(r.Props, session.Field{Key: k, Value: clone(v)}) })
	return r
}

// Export calls fn with a copy of every live key whose id filter accepts
// (nil accepts all), one shard at a time: each shard is copied under its
// read lock and fn runs outside any lock, so writes go on while a large
// store is exported. A key written during the export is exported either as
// it was before or after that write. Export stops at fn's first error.
func (s *Store) Export(ctx context.Context, filter func(key string) bool, fn func(Record) error) error {
	if s.closed.Load() {
		return session.ErrClosed
	}
	for i := range s.shards {
		if err := ctx.Err(); err != nil {
			return err
		}
		sh := &s.shards[i]
		now := s.now()
		var batch []Record
		sh.mu.RLock()
		sh.idx.each(func(e *entry) {
			if k := e.id(); e.live(now) && (filter == nil || filter(k)) {
				batch = append(batch, e.record(strings.Clone(k)))
			}
		})
		sh.mu.RUnlock()
		for _, r := range batch {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// Import writes r, replacing whatever the key held. A record whose
// deadline or idle time has already passed removes the key instead.
func (s *Store) Import(_ context.Context, r Record) error {
	if err := s.check(r.Key); err != nil {
		return err
	}
	if r.Kind != session.KindSession && r.Kind != session.KindString {
		return session.ErrWrongType
	}
	extra := len(r.Value) // the block's size, so that it is allocated once
	for _, kvs := range [][]session.Field{r.Data, r.Props} {
		for _, kv := range kvs {
			extra += record.PairLen(len(kv.Key), len(kv.Value))
		}
	}
	e := newEntry(r.Key, r.Kind, extra)
	e.idle = int64(r.Idle)
	e.touched.Store(r.Touched.UnixNano())
	if !r.Deadline.IsZero() {
		e.setDeadline(r.Deadline.UnixNano())
	}
	if r.Kind == session.KindString {
		e.setValue(r.Value)
	} else {
		if len(r.Data) > 0 {
			e.dataSec().set(r.Data)
		}
		if len(r.Props) > 0 {
			e.propsSec().set(r.Props)
		}
	}
	sh := s.shard(r.Key)
	now := s.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old := sh.idx.get(r.Key); old != nil {
		sh.removeLocked(r.Key, old)
	}
	if !e.live(now) || (r.Kind == session.KindSession && e.empty()) {
		return nil
	}
	sh.addLocked(e)
	return nil
}

// Record returns a copy of key as it is now (the post-image of a write, for
// replication), and false when the key is missing or expired.
func (s *Store) Record(key string) (r Record, ok bool) {
	s.view(key, func(e *entry) {
		r, ok = e.record(key), true
	})
	return r, ok
}

// Expired reports whether key is present but expired (not yet reclaimed):
// a replicating owner turns that into a delete its backups see.
func (s *Store) Expired(key string) bool {
	sh := s.shard(key)
	now := s.now()
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e := sh.idx.get(key)
	return e != nil && !e.live(now)
}

// Touched returns the last touch of key's live session or string.
func (s *Store) Touched(key string) (at time.Time, ok bool) {
	s.view(key, func(e *entry) {
		at, ok = time.Unix(0, e.touched.Load()), true
	})
	return at, ok
}

// SetTouched sets the last touch of key (a backup learning of a read that
// slid its primary's idle timer). It reports whether key exists.
func (s *Store) SetTouched(key string, at time.Time) bool {
	sh := s.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e := sh.idx.get(key)
	if e == nil {
		return false
	}
	e.touched.Store(at.UnixNano())
	return true
}

// SweepFunc removes every expired key now, like Sweep, and calls fn with
// each key removed (under the key's shard lock: fn must not call the store).
func (s *Store) SweepFunc(fn func(key string)) int {
	removed := 0
	for i := range s.shards {
		sh := &s.shards[i]
		now := s.now()
		sh.mu.Lock()
		sh.idx.each(func(e *entry) {
			if !e.live(now) {
				id := e.id()
				sh.removeLocked(id, e)
				s.emit(session.EventExpired, id)
				fn(strings.Clone(id))
				removed++
			}
		})
		sh.idx.compact()
		sh.mu.Unlock()
	}
	s.expired.Add(uint64(removed))
	return removed
}

// Each calls fn with a copy of every key held, expired or not (a digest of
// a replica compares what it holds, whatever its clock says), one shard at
// a time under its read lock.
func (s *Store) Each(fn func(Record)) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		sh.idx.each(func(e *entry) { fn(e.record(strings.Clone(e.id()))) })
		sh.mu.RUnlock()
	}
}
