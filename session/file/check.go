package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// Check reads and verifies every session and global file (checksum,
// structure, and that each file sits in the slot its id hashes to) and
// returns how many records it checked. Every problem found is in the
// returned error (errors.Join), each matching ErrCorrupt. It takes each
// chain's lock while reading it, so it may run beside other operations.
func (s *Store) Check(ctx context.Context) (int, error) {
	if err := s.life.Enter(ctx); err != nil {
		return 0, err
	}
	defer s.life.Leave()
	var errs []error
	n := 0
	for _, sp := range []*space{&s.sessions, &s.globals} {
		dirs, err := sp.existingDirs()
		if err != nil {
			return n, err
		}
		for _, dir := range dirs {
			if err := ctx.Err(); err != nil {
				return n, err
			}
			names, err := readDirNames(dir)
			if err != nil {
				return n, err
			}
			for _, name := range names {
				h, _, tmp, ok := parseName(name)
				if !ok || tmp {
					continue
				}
				if err := s.checkFile(sp, dir, name, h); err != nil {
					if errors.Is(err, fs.ErrNotExist) {
						continue
					}
					errs = append(errs, err)
					continue
				}
				n++
			}
		}
	}
	return n, errors.Join(errs...)
}

func (s *Store) checkFile(sp *space, dir, name string, h nameHash) error {
	mu := &s.gmu
	if sp == &s.sessions {
		mu = s.stripe(h)
	}
	mu.RLock()
	defer mu.RUnlock()
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	r, err := s.decode(sp, p, b)
	if err != nil {
		return err
	}
	if got := s.hash(string(r.ID)); got != h || sp.dir(got) != dir {
		s.corrupt.Add(1)
		return fmt.Errorf("%w: %s holds id %q, which belongs in %s", ErrCorrupt, p, record.Truncate(string(r.ID)),
			filepath.Join(sp.dir(got), slotName(got, 0)))
	}
	return nil
}
