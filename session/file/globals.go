package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// Globals live in their own directory (globals/), so no session id,
// "global" included, can reach them. They never expire. One RWMutex guards
// the whole directory, which makes Globals a consistent snapshot; globals
// are few and rarely written.

func (s *Store) checkGlobal(key string) error {
	if s.life.Closing() {
		return session.ErrClosed
	}
	return session.ValidateKey(key)
}

// SaveGlobal implements session.Store.
func (s *Store) SaveGlobal(ctx context.Context, key string, value []byte) error {
	if err := s.checkGlobal(key); err != nil {
		return err
	}
	if err := s.checkValue(value); err != nil {
		return err
	}
	if err := s.life.Enter(ctx); err != nil {
		return err
	}
	defer s.life.Leave()
	s.gmu.Lock()
	defer s.gmu.Unlock()
	c, err := s.find(&s.globals, s.hash(key), key)
	if err != nil {
		return err
	}
	return s.put(&c, record.NewGlobal(key, value))
}

// GetGlobal implements session.Store.
func (s *Store) GetGlobal(ctx context.Context, key string) ([]byte, error) {
	if err := s.checkGlobal(key); err != nil {
		return nil, err
	}
	if err := s.life.Enter(ctx); err != nil {
		return nil, err
	}
	defer s.life.Leave()
	s.gmu.RLock()
	defer s.gmu.RUnlock()
	c, err := s.find(&s.globals, s.hash(key), key)
	if err != nil {
		return nil, err
	}
	if c.slot < 0 {
		return nil, fmt.Errorf("%w: global %q", session.ErrNotFound, record.Truncate(key))
	}
	return record.Clone(c.rec.Value), nil
}

// EvictGlobal implements session.Store.
func (s *Store) EvictGlobal(ctx context.Context, key string) (bool, error) {
	if err := s.checkGlobal(key); err != nil {
		return false, err
	}
	if err := s.life.Enter(ctx); err != nil {
		return false, err
	}
	defer s.life.Leave()
	s.gmu.Lock()
	defer s.gmu.Unlock()
	c, err := s.find(&s.globals, s.hash(key), key)
	if err != nil || c.slot < 0 {
		return false, err
	}
	if err := s.remove(&c); err != nil {
		return false, err
	}
	return true, nil
}

// Globals implements session.Store. A corrupt global file fails the call
// with ErrCorrupt rather than be left out silently.
func (s *Store) Globals(ctx context.Context) (map[string][]byte, error) {
	if s.life.Closing() {
		return nil, session.ErrClosed
	}
	if err := s.life.Enter(ctx); err != nil {
		return nil, err
	}
	defer s.life.Leave()
	s.gmu.RLock()
	defer s.gmu.RUnlock()
	dir := s.globals.dirs[0]
	names, err := readDirNames(dir)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(names))
	for _, name := range names {
		if _, _, tmp, ok := parseName(name); !ok || tmp {
			continue
		}
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%w: file: %w", session.ErrUnavailable, err)
		}
		r, err := s.decode(&s.globals, p, b)
		if err != nil {
			return nil, err
		}
		out[string(r.ID)] = record.Clone(r.Value)
	}
	return out, nil
}

// readDirNames returns the names in dir, unsorted.
func readDirNames(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: file: %w", session.ErrUnavailable, err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("%w: file: %w", session.ErrUnavailable, err)
	}
	return names, nil
}
