package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// Sweep implements session.Sweeper. It walks every session file, reading
// only its fixed header, and removes the ones that have expired (checking
// the whole file under the chain's lock first). It also deletes temporary
// files left by a crash. A corrupt file is logged, counted in Stats and
// left in place. Sweep stops early when ctx is done or the store closes.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	if err := s.life.Enter(ctx); err != nil {
		return 0, err
	}
	defer s.life.Leave()
	dirs, err := s.sessions.existingDirs()
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, dir := range dirs {
		if err := s.life.Stopped(ctx); err != nil {
			return removed, err
		}
		n, err := s.sweepDir(ctx, dir)
		removed += n
		if err != nil {
			return removed, err
		}
	}
	s.cleanGlobalTemps()
	return removed, nil
}

func (s *Store) sweepDir(ctx context.Context, dir string) (int, error) {
	names, err := readDirNames(dir)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, name := range names {
		if err := s.life.Stopped(ctx); err != nil {
			return removed, err
		}
		h, slot, tmp, ok := parseName(name)
		if !ok {
			continue
		}
		p := filepath.Join(dir, name)
		if tmp {
			s.removeTemp(h, p)
			continue
		}
		hd, err := readHeader(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed or moved since the listing
		}
		if err != nil {
			s.cfg.Logger.Warn("file: sweep: unreadable session file", "path", p, "err", err)
			s.corrupt.Add(1)
			continue
		}
		if at := hd.ExpiresAt(); at == 0 || s.now() < at {
			continue
		}
		done, err := s.sweepSlot(h, slot, dir)
		if err != nil {
			s.cfg.Logger.Warn("file: sweep", "path", p, "err", err)
			if errors.Is(err, session.ErrUnavailable) {
				return removed, err
			}
			continue
		}
		if done {
			removed++
		}
	}
	return removed, nil
}

// sweepSlot removes the session in slot of chain h if it has expired, after
// checking the whole file under the chain's lock.
func (s *Store) sweepSlot(h nameHash, slot int, dir string) (bool, error) {
	mu := s.stripe(h)
	mu.Lock()
	defer mu.Unlock()
	c := chain{sp: &s.sessions, h: h, dir: dir, slot: slot}
	p := c.path(slot)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%w: file: %w", session.ErrUnavailable, err)
	}
	r, err := s.decode(&s.sessions, p, b)
	if err != nil {
		return false, err
	}
	if r.Live(s.now()) {
		return false, nil
	}
	if err := s.remove(&c); err != nil {
		return false, err
	}
	s.expired.Add(1)
	return true, nil
}

// removeTemp deletes a temporary file left by a crash. Under the chain's
// lock no write of the chain is in flight, so any temporary file is stale.
func (s *Store) removeTemp(h nameHash, p string) {
	mu := s.stripe(h)
	mu.Lock()
	defer mu.Unlock()
	if err := s.cfg.fs.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.cfg.Logger.Warn("file: sweep: remove temporary file", "path", p, "err", err)
	}
}

func (s *Store) cleanGlobalTemps() {
	dir := s.globals.dirs[0]
	names, err := readDirNames(dir)
	if err != nil {
		return
	}
	s.gmu.Lock()
	defer s.gmu.Unlock()
	for _, name := range names {
		if _, _, tmp, ok := parseName(name); ok && tmp {
			_ = s.cfg.fs.Remove(filepath.Join(dir, name))
		}
	}
}

// readHeader reads the fixed header of the record file at p.
func readHeader(p string) (record.Header, error) {
	f, err := os.Open(p)
	if err != nil {
		return record.Header{}, err
	}
	defer f.Close()
	var b [record.HeaderLen]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return record.Header{}, err
	}
	return record.DecodeHeader(b[:])
}
