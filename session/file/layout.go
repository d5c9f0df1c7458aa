package file

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// On-disk layout of a store directory:
//
//	LOCK                 flock held by the open Store (holds its pid)
//	FORMAT               the layout version, checked at open
//	sessions/00 … ff/    one file per session, fanned out on the hash's first
//	                     byte (each directory made with its first file)
//	globals/             one file per global
//
// A session (or global) file is named by the first 16 bytes of the SHA-256
// of its id, in lowercase hex: 32 characters whatever the id's length or
// bytes, so no path traversal, no name over the 255-byte limit and no two
// names that differ only in case. The full id is stored inside the file and
// compared on every read. Ids whose hashes collide form a chain: the first
// is named <hash>, the next <hash>.1, <hash>.2 and so on, with no gaps (a
// removal moves the chain's last file into the freed slot). A chain is
// guarded by one lock stripe, picked by the same hash. A write goes to
// <hash>.tmp, then is renamed over its slot.
const (
	lockFile    = "LOCK"
	formatFile  = "FORMAT"
	sessionsDir = "sessions"
	globalsDir  = "globals"
	tmpSuffix   = ".tmp"

	nameHashLen = 16
	fanout      = 256
)

const formatText = "sessiongrid file store\nformat 1\n"

// nameHash is the part of an id's SHA-256 that names its file.
type nameHash [nameHashLen]byte

func sha256Name(id string) nameHash {
	sum := sha256.Sum256([]byte(id))
	return nameHash(sum[:nameHashLen])
}

// space is a directory of record files: sessions (fanned out) or globals.
// Fan-out directories are created when their first file is written.
type space struct {
	kind  record.Kind
	root  string
	dirs  []string // fan-out directory paths (created lazily), or the root
	label string   // "session" or "global", for errors
}

// existingDirs lists the directories of sp that exist.
func (sp *space) existingDirs() ([]string, error) {
	if len(sp.dirs) == 1 {
		return sp.dirs, nil
	}
	names, err := readDirNames(sp.root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		var b [1]byte
		if len(n) == 2 && n == strings.ToLower(n) {
			if _, err := hex.Decode(b[:], []byte(n)); err == nil {
				out = append(out, sp.dirs[b[0]])
			}
		}
	}
	return out, nil
}

func (sp *space) dir(h nameHash) string {
	if len(sp.dirs) == 1 {
		return sp.dirs[0]
	}
	return sp.dirs[h[0]]
}

func slotName(h nameHash, slot int) string {
	name := hex.EncodeToString(h[:])
	if slot > 0 {
		name += "." + strconv.Itoa(slot)
	}
	return name
}

// parseName parses a file name of a space: a slot (tmp false) or a
// temporary file (tmp true). ok is false for a name the store never writes.
func parseName(name string) (h nameHash, slot int, tmp, ok bool) {
	if len(name) < 2*nameHashLen {
		return h, 0, false, false
	}
	if _, err := hex.Decode(h[:], []byte(name[:2*nameHashLen])); err != nil {
		return h, 0, false, false
	}
	if name[:2*nameHashLen] != strings.ToLower(name[:2*nameHashLen]) {
		return h, 0, false, false
	}
	rest := name[2*nameHashLen:]
	switch {
	case rest == "":
		return h, 0, false, true
	case rest == tmpSuffix:
		return h, 0, true, true
	case rest[0] == '.':
		n, err := strconv.Atoi(rest[1:])
		if err != nil || n <= 0 || strconv.Itoa(n) != rest[1:] {
			return h, 0, false, false
		}
		return h, n, false, true
	}
	return h, 0, false, false
}

// chain is where an id is, or would go, in its hash chain.
type chain struct {
	sp   *space
	h    nameHash
	dir  string
	slot int           // slot holding the id; -1 when absent
	free int           // when absent: the first free slot, where a new file goes
	rec  record.Record // the id's record when slot >= 0
}

func (c *chain) path(slot int) string { return filepath.Join(c.dir, slotName(c.h, slot)) }

// find looks id, whose name hash is h, up in its chain. The caller holds
// the chain's lock.
func (s *Store) find(sp *space, h nameHash, id string) (chain, error) {
	c := chain{sp: sp, h: h, dir: sp.dir(h), slot: -1}
	for i := 0; ; i++ {
		p := c.path(i)
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			c.free = i
			return c, nil
		}
		if err != nil {
			return c, fmt.Errorf("%w: file: %w", session.ErrUnavailable, err)
		}
		r, err := s.decode(sp, p, b)
		if err != nil {
			return c, err
		}
		if string(r.ID) == id {
			c.slot, c.rec = i, r
			return c, nil
		}
	}
}

// decode decodes the file at p, which must hold a record of sp's kind.
func (s *Store) decode(sp *space, p string, b []byte) (record.Record, error) {
	r, err := record.Decode(b)
	if err == nil && r.Kind != sp.kind {
		err = fmt.Errorf("%w: a kind %d record among %ss", record.ErrMalformed, r.Kind, sp.label)
	}
	if err != nil {
		s.corrupt.Add(1)
		return r, fmt.Errorf("%w: %s: %w", ErrCorrupt, p, err)
	}
	return r, nil
}

// put writes r into the id's slot (a new slot when absent) atomically.
func (s *Store) put(c *chain, r *record.Record) error {
	slot := c.slot
	if slot < 0 {
		slot = c.free
	}
	if err := s.writeAtomic(c.dir, c.path(slot), slotName(c.h, 0)+tmpSuffix, r.Encode()); err != nil {
		return err
	}
	c.slot = slot
	return nil
}

// remove deletes the id's file, moving the chain's last file into its slot
// so that the chain keeps no gap. Each step is one atomic rename or unlink.
func (s *Store) remove(c *chain) error {
	if c.slot < 0 {
		return nil
	}
	last := c.slot
	for {
		_, err := os.Lstat(c.path(last + 1))
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: file: %w", session.ErrUnavailable, err)
		}
		last++
	}
	var err error
	if last == c.slot {
		err = s.cfg.fs.Remove(c.path(c.slot))
	} else {
		err = s.cfg.fs.Rename(c.path(last), c.path(c.slot))
	}
	if err != nil {
		return fmt.Errorf("%w: file: %w", session.ErrUnavailable, err)
	}
	c.slot = -1
	return s.syncDir(c.dir)
}

// writeAtomic replaces path with data: it writes tmp, fsyncs it (with
// Config.Fsync), renames it over path and fsyncs the directory. A crash at
// any point leaves either the old file or the new one, never a mix.
func (s *Store) writeAtomic(dir, path, tmpName string, data []byte) error {
	tmp := filepath.Join(dir, tmpName)
	f, err := s.cfg.fs.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		// The first file of a fan-out directory.
		if err = s.cfg.fs.Mkdir(dir, 0o700); err == nil || errors.Is(err, fs.ErrExist) {
			if err = s.syncDir(filepath.Dir(dir)); err == nil {
				f, err = s.cfg.fs.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("%w: file: %w", session.ErrUnavailable, err)
	}
	_, err = f.Write(data)
	if err == nil && s.cfg.Fsync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.cfg.fs.Rename(tmp, path)
	}
	if err != nil {
		_ = s.cfg.fs.Remove(tmp)
		return fmt.Errorf("%w: file: write %s: %w", session.ErrUnavailable, path, err)
	}
	return s.syncDir(dir)
}

// syncDir makes the directory entries of dir durable (with Config.Fsync).
func (s *Store) syncDir(dir string) error {
	if !s.cfg.Fsync {
		return nil
	}
	if err := s.cfg.fs.SyncDir(dir); err != nil {
		return fmt.Errorf("%w: file: %w", session.ErrUnavailable, err)
	}
	return nil
}

func fsyncDir(dir string) error { return fsyncFile(dir) }

func fsyncFile(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// prepareDir creates the layout under root (or checks an existing one) and
// returns the two spaces.
func prepareDir(root string, fsync bool) (sessions, globals space, err error) {
	fp := filepath.Join(root, formatFile)
	b, err := os.ReadFile(fp)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// A new store: refuse to spread files into a directory that holds
		// something else (a mistyped Dir).
		names, err := readDirNames(root)
		if err != nil {
			return sessions, globals, err
		}
		for _, n := range names {
			if n != lockFile && n != formatFile+tmpSuffix {
				return sessions, globals, fmt.Errorf("file: %s is not empty and holds no %s: not a session store directory", root, formatFile)
			}
		}
		// Written atomically too: a crash here must not leave a store that
		// refuses to open.
		tmp := fp + tmpSuffix
		err = os.WriteFile(tmp, []byte(formatText), 0o600)
		if err == nil && fsync {
			err = fsyncFile(tmp)
		}
		if err == nil {
			err = os.Rename(tmp, fp)
		}
		if err != nil {
			return sessions, globals, fmt.Errorf("file: %w", err)
		}
	case err != nil:
		return sessions, globals, fmt.Errorf("file: %w", err)
	case string(b) != formatText:
		return sessions, globals, fmt.Errorf("file: %s: unknown layout %q (want %q)", fp, b, formatText)
	}
	sessions = space{kind: record.KindSession, label: "session", root: filepath.Join(root, sessionsDir), dirs: make([]string, fanout)}
	for i := range sessions.dirs {
		sessions.dirs[i] = filepath.Join(sessions.root, fmt.Sprintf("%02x", i))
	}
	globals = space{kind: record.KindGlobal, label: "global", root: filepath.Join(root, globalsDir)}
	globals.dirs = []string{globals.root}
	for _, d := range []string{sessions.root, globals.root} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return sessions, globals, fmt.Errorf("file: %w", err)
		}
	}
	if fsync {
		if err := fsyncDir(root); err != nil {
			return sessions, globals, fmt.Errorf("file: %w", err)
		}
	}
	return sessions, globals, nil
}
