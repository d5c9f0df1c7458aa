package cache

import (
	"context"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// The props twins of the data methods (data.go), over record.PropsSection.

// SaveProp implements session.Store.
func (s *Store) SaveProp(_ context.Context, id, key string, value []byte) error {
	_, err := s.save(id, record.PropsSection, []session.Field{{Key: key, Value: value}})
	return err
}

// GetProp implements session.Store.
func (s *Store) GetProp(_ context.Context, id, key string) ([]byte, error) {
	return s.getField(id, key, record.PropsSection)
}

// Props implements session.Store.
func (s *Store) Props(_ context.Context, id string) (map[string][]byte, error) {
	return s.readMap(id, record.PropsSection)
}

// EvictProp implements session.Store.
func (s *Store) EvictProp(_ context.Context, id, key string) (bool, error) {
	removed, err := s.evict(id, record.PropsSection, []string{key})
	return removed > 0, err
}
