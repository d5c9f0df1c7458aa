package cache

import (
	"context"
	"fmt"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/args"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// checkSize refuses a session over MaxBytes: otter would evict it at once.
func (s *Store) checkSize(id string, e *entry) error {
	if s.cfg.MaxBytes > 0 && e.bytes > s.cfg.MaxBytes {
		return fmt.Errorf("%w: session %q would hold %d bytes, cache limit %d",
			session.ErrTooLarge, record.Truncate(id), e.bytes, s.cfg.MaxBytes)
	}
	return nil
}

// Save implements session.Store.
func (s *Store) Save(_ context.Context, id string, fields ...session.Field) (int, error) {
	return s.save(id, record.DataSection, fields)
}

// save writes fields into section sec of session id, creating it, and
// returns how many keys were new.
func (s *Store) save(id string, sec record.Section, fields []session.Field) (int, error) {
	if err := s.check(id); err != nil {
		return 0, err
	}
	if err := args.Fields(fields, s.cfg.MaxValueSize); err != nil {
		return 0, err
	}
	if len(fields) == 0 {
		return 0, nil
	}
	var (
		added int
		err   error
	)
	s.update(id, func(cur *entry, now int64) (*entry, bool) {
		if cur == nil {
			cur = s.create(id, now)
		}
		var next *entry
		next, added = cur.with(sec, fields, now)
		if err = s.checkSize(id, next); err != nil {
			added = 0
			return nil, true
		}
		return next, false
	})
	return added, err
}

// Get implements session.Store.
func (s *Store) Get(_ context.Context, id, key string) ([]byte, error) {
	return s.getField(id, key, record.DataSection)
}

// getField returns a copy of key's value in section sec of session id.
func (s *Store) getField(id, key string, sec record.Section) ([]byte, error) {
	if err := s.check(id); err != nil {
		return nil, err
	}
	if err := session.ValidateKey(key); err != nil {
		return nil, err
	}
	if e := s.load(id); e != nil {
		if v, ok := (*e.fields(sec))[key]; ok {
			return clone(v), nil
		}
	}
	if sec == record.PropsSection {
		return nil, fmt.Errorf("prop: %w", record.NotFound(id, key))
	}
	return nil, record.NotFound(id, key)
}

// GetAll implements session.Store.
func (s *Store) GetAll(_ context.Context, id string) (map[string][]byte, error) {
	return s.readMap(id, record.DataSection)
}

// readMap returns a copy of section sec of session id.
func (s *Store) readMap(id string, sec record.Section) (map[string][]byte, error) {
	if err := s.check(id); err != nil {
		return nil, err
	}
	e := s.load(id)
	if e == nil {
		return map[string][]byte{}, nil
	}
	return copyMap(*e.fields(sec)), nil
}

// Exists implements session.Store.
func (s *Store) Exists(_ context.Context, id, key string) (bool, error) {
	if err := s.check(id); err != nil {
		return false, err
	}
	if err := session.ValidateKey(key); err != nil {
		return false, err
	}
	e := s.load(id)
	if e == nil {
		return false, nil
	}
	_, ok := e.data[key]
	return ok, nil
}

// Evict implements session.Store.
func (s *Store) Evict(_ context.Context, id string, keys ...string) (int, error) {
	return s.evict(id, record.DataSection, keys)
}

// evict removes keys from section sec of session id and returns how many
// existed.
func (s *Store) evict(id string, sec record.Section, keys []string) (int, error) {
	if err := s.check(id); err != nil {
		return 0, err
	}
	if err := args.Keys(keys); err != nil {
		return 0, err
	}
	removed := 0
	s.update(id, func(cur *entry, now int64) (*entry, bool) {
		if cur == nil {
			return nil, true
		}
		var next *entry
		next, removed = cur.without(sec, keys, now)
		switch {
		case next == nil:
			return nil, true
		case next.empty():
			return nil, false
		}
		return next, false
	})
	return removed, nil
}

// Clear implements session.Store.
func (s *Store) Clear(_ context.Context, id string, retain ...string) (bool, error) {
	if err := s.check(id); err != nil {
		return false, err
	}
	existed := false
	s.update(id, func(cur *entry, now int64) (*entry, bool) {
		if cur == nil {
			return nil, true
		}
		existed = true
		if len(retain) == 0 {
			return nil, false
		}
		next := cur.retaining(retain, now)
		if next.empty() {
			return nil, false
		}
		return next, false
	})
	return existed, nil
}
