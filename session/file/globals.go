package file

import (
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
// are few and rarely written. These are the store's global functions of
// record.Backend: record.Sessions checks the arguments and admits the call first.

// putGlobal is record.Backend.PutGlobal.
func (s *Store) putGlobal(key string, value []byte) error {
	s.gmu.Lock()
	defer s.gmu.Unlock()
	c, err := s.find(&s.globals, s.hash(key), key)
	if err != nil {
		return err
	}
	return s.put(&c, record.NewGlobal(key, value))
}

// findGlobal is record.Backend.FindGlobal.
func (s *Store) findGlobal(key string) ([]byte, bool, error) {
	s.gmu.RLock()
	defer s.gmu.RUnlock()
	c, err := s.find(&s.globals, s.hash(key), key)
	if err != nil || c.slot < 0 {
		return nil, false, err
	}
	return record.Clone(c.rec.Value), true, nil
}

// deleteGlobal is record.Backend.DeleteGlobal.
func (s *Store) deleteGlobal(key string) (bool, error) {
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

// allGlobals is record.Backend.AllGlobals. A corrupt global file fails the
// call with ErrCorrupt rather than be left out silently.
func (s *Store) allGlobals() (map[string][]byte, error) {
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
