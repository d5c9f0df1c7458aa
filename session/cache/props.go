package cache

import (
	"context"
	"fmt"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// SaveProp implements session.Store.
func (s *Store) SaveProp(_ context.Context, id, key string, value []byte) error {
	if err := s.check(id); err != nil {
		return err
	}
	if err := session.ValidateKey(key); err != nil {
		return err
	}
	if err := session.ValidateValue(value, s.cfg.MaxValueSize); err != nil {
		return err
	}
	var err error
	s.update(id, func(cur *entry, now int64) (*entry, bool) {
		if cur == nil {
			cur = s.create(id, now)
		}
		next := cur.withProp(key, value, now)
		if err = s.checkSize(id, next); err != nil {
			return nil, true
		}
		return next, false
	})
	return err
}

// GetProp implements session.Store.
func (s *Store) GetProp(_ context.Context, id, key string) ([]byte, error) {
	if err := s.check(id); err != nil {
		return nil, err
	}
	if err := session.ValidateKey(key); err != nil {
		return nil, err
	}
	if e := s.load(id); e != nil {
		if v, ok := e.props[key]; ok {
			return clone(v), nil
		}
	}
	return nil, fmt.Errorf("prop: %w", record.NotFound(id, key))
}

// Props implements session.Store.
func (s *Store) Props(_ context.Context, id string) (map[string][]byte, error) {
	if err := s.check(id); err != nil {
		return nil, err
	}
	e := s.load(id)
	if e == nil {
		return map[string][]byte{}, nil
	}
	return copyMap(e.props), nil
}

// EvictProp implements session.Store.
func (s *Store) EvictProp(_ context.Context, id, key string) (bool, error) {
	if err := s.check(id); err != nil {
		return false, err
	}
	if err := session.ValidateKey(key); err != nil {
		return false, err
	}
	existed := false
	s.update(id, func(cur *entry, now int64) (*entry, bool) {
		if cur == nil {
			return nil, true
		}
		next := cur.withoutProp(key, now)
		if next == nil {
			return nil, true
		}
		existed = true
		if next.empty() {
			return nil, false
		}
		return next, false
	})
	return existed, nil
}
