package cache

import (
	"context"
	"fmt"

	"github.com/sessiongrid/sessiongrid/session"
)

// Globals live in a plain map beside the cache: they are never evicted and
// never expire, and no session id reaches them.

func (s *Store) checkGlobal(key string) error {
	if s.closed.Load() {
		return session.ErrClosed
	}
	return session.ValidateKey(key)
}

// SaveGlobal implements session.Store.
func (s *Store) SaveGlobal(_ context.Context, key string, value []byte) error {
	if err := s.checkGlobal(key); err != nil {
		return err
	}
	if err := session.ValidateValue(value, s.cfg.MaxValueSize); err != nil {
		return err
	}
	v := clone(value)
	s.gmu.Lock()
	s.globals[key] = v
	s.gmu.Unlock()
	return nil
}

// GetGlobal implements session.Store.
func (s *Store) GetGlobal(_ context.Context, key string) ([]byte, error) {
	if err := s.checkGlobal(key); err != nil {
		return nil, err
	}
	s.gmu.RLock()
	v, ok := s.globals[key]
	s.gmu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: global %q", session.ErrNotFound, truncate(key))
	}
	return clone(v), nil
}

// EvictGlobal implements session.Store.
func (s *Store) EvictGlobal(_ context.Context, key string) (bool, error) {
	if err := s.checkGlobal(key); err != nil {
		return false, err
	}
	s.gmu.Lock()
	_, ok := s.globals[key]
	delete(s.globals, key)
	s.gmu.Unlock()
	return ok, nil
}

// Globals implements session.Store.
func (s *Store) Globals(context.Context) (map[string][]byte, error) {
	if s.closed.Load() {
		return nil, session.ErrClosed
	}
	s.gmu.RLock()
	defer s.gmu.RUnlock()
	return copyMap(s.globals), nil
}
