package memory

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/sessiongrid/sessiongrid/internal/glob"

	"github.com/sessiongrid/sessiongrid/session"
)

// stringLocked returns the live string entry of key, nil if missing; a
// session key gives ErrWrongType.
func (sh *shard) stringLocked(key string, now int64) (*entry, error) {
	e := sh.lookupLocked(key, now)
	if e == nil {
		return nil, nil
	}
	if e.kind != session.KindString {
		return nil, wrongType(key)
	}
	return e, nil
}

// GetString implements session.Strings.
func (s *Store) GetString(_ context.Context, key string) ([]byte, error) {
	if err := s.check(key); err != nil {
		return nil, err
	}
	sh := s.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e, err := sh.stringLocked(key, s.now())
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, notFound(key, "")
	}
	return clone(e.value()), nil
}

// SetString implements session.Strings.
func (s *Store) SetString(_ context.Context, key string, value []byte, opt session.SetOptions) (session.SetResult, error) {
	var res session.SetResult
	if err := s.check(key); err != nil {
		return res, err
	}
	if err := s.checkValue(value); err != nil {
		return res, err
	}
	sh := s.shard(key)
	now := s.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.lookupLocked(key, now)
	if e != nil && e.kind != session.KindString {
		if opt.Get || opt.Cond == session.SetIfEqual {
			return res, wrongType(key)
		}
	}
	isString := e != nil && e.kind == session.KindString
	res.Existed = isString
	if isString && opt.Get {
		res.Old = clone(e.value())
	}
	switch opt.Cond {
	case session.SetIfNotExists:
		if e != nil {
			return res, nil
		}
	case session.SetIfExists:
		if e == nil {
			return res, nil
		}
	case session.SetIfEqual:
		if !isString || !bytes.Equal(e.value(), opt.Match) {
			return res, nil
		}
	}
	var deadline int64
	if opt.KeepTTL && isString {
		deadline = e.deadline()
	}
	if opt.TTL > 0 {
		deadline = now + int64(opt.TTL)
	}
	if e == nil || !isString {
		if e != nil {
			sh.removeLocked(key, e)
		}
		e = s.insertLocked(sh, key, session.KindString, now, len(value))
	}
	sh.mutate(e, func() { e.setValue(value) })
	e.setDeadline(deadline)
	e.touched.Store(now)
	res.Applied = true
	return res, nil
}

// DeleteIf implements session.Strings.
func (s *Store) DeleteIf(_ context.Context, key string, equal bool, value []byte) (bool, error) {
	if err := s.check(key); err != nil {
		return false, err
	}
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, err := sh.stringLocked(key, s.now())
	if err != nil || e == nil {
		return false, err
	}
	if bytes.Equal(e.value(), value) != equal {
		return false, nil
	}
	sh.removeLocked(key, e)
	s.emit(session.EventDeleted, key)
	return true, nil
}

// KindOf implements session.Keyspace.
func (s *Store) KindOf(_ context.Context, key string) (session.Kind, error) {
	if err := s.check(key); err != nil {
		return session.KindNone, err
	}
	sh := s.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if e := sh.lookupLocked(key, s.now()); e != nil {
		return e.kind, nil
	}
	return session.KindNone, nil
}

// Delete implements session.Keyspace.
func (s *Store) Delete(_ context.Context, keys ...string) (int, error) {
	for _, k := range keys {
		if err := s.check(k); err != nil {
			return 0, err
		}
	}
	now := s.now()
	n := 0
	for _, k := range keys {
		sh := s.shard(k)
		sh.mu.Lock()
		if e := sh.idx.get(k); e != nil {
			sh.removeLocked(k, e)
			if e.live(now) {
				n++
				s.emit(session.EventDeleted, k)
			} else {
				s.expiredLocked(k)
			}
		}
		sh.mu.Unlock()
	}
	return n, nil
}

// Scan implements session.Keyspace. The cursor is a shard index: each call
// returns every matching key of whole shards until count keys are
// gathered, so a key present for the whole scan is returned exactly once.
func (s *Store) Scan(_ context.Context, cursor uint64, pattern string, count int) (uint64, []string, error) {
	if s.closed.Load() {
		return 0, nil, session.ErrClosed
	}
	if cursor >= uint64(len(s.shards)) {
		return 0, nil, fmt.Errorf("memory: invalid cursor %d", cursor)
	}
	if count <= 0 {
		count = 10
	}
	now := s.now()
	var keys []string
	i := cursor
	for ; i < uint64(len(s.shards)) && len(keys) < count; i++ {
		sh := &s.shards[i]
		sh.mu.RLock()
		sh.idx.each(func(e *entry) {
			if k := e.id(); e.live(now) && (pattern == "" || pattern == "*" || glob.Match(pattern, k)) {
				keys = append(keys, strings.Clone(k)) // k aliases the key's block
			}
		})
		sh.mu.RUnlock()
	}
	if i >= uint64(len(s.shards)) {
		i = 0
	}
	return i, keys, nil
}

// Len implements session.Keyspace. Keys that expired but were not yet
// swept are counted, as Redis's DBSIZE does.
func (s *Store) Len(context.Context) (int, error) {
	st := s.Stats()
	return st.Keys, nil
}
