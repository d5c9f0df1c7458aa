package cache

import (
	"context"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// SetExpiry implements session.Store. The override is part of the session's
// value: it lasts until the session is cleared entirely, evicted or expired.
func (s *Store) SetExpiry(_ context.Context, id string, x session.Expiry) error {
	if err := s.check(id); err != nil {
		return err
	}
	found := false
	s.update(id, func(cur *entry, now int64) (*entry, bool) {
		if cur == nil {
			return nil, true
		}
		found = true
		return cur.withExpiry(x, now), false
	})
	if !found {
		return record.NotFound(id, "")
	}
	return nil
}

// TTL implements session.Store. It is a read: it counts as a hit or miss
// but never slides the idle timeout, whatever TouchOnRead says.
func (s *Store) TTL(_ context.Context, id string) (time.Duration, error) {
	if err := s.check(id); err != nil {
		return 0, err
	}
	now := s.now()
	e, ok := s.sessions.GetIfPresent(id)
	if !ok || !e.live(now) {
		s.misses.Add(1)
		return 0, record.NotFound(id, "")
	}
	s.hits.Add(1)
	at := e.expiresAt()
	if at == 0 {
		return session.NoExpiry, nil
	}
	return time.Duration(at - now), nil
}
