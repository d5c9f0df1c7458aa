package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
)

// powerFS is an fsys that keeps, beside the real files (what the page cache
// holds, and what a crash of the process leaves), the state a power loss
// would leave: a file's content as of its last fsync, a directory's entries
// as of its last fsync. PowerLoss rewrites the directory tree to that state.
// This is the strict model (ext4 data=ordered without its rename heuristics,
// XFS): nothing reaches the disk without an fsync of the file or of the
// directory that names it.
type powerFS struct {
	root string

	mu      sync.Mutex                // guards the fields below
	nextIno int                       // inode numbers
	vol     map[string]map[string]int // directory → name → inode, as now
	dur     map[string]map[string]int // directory → name → inode, as of its last fsync
	data    map[int][]byte            // file inode → content as of its last fsync
	dirs    map[int]bool              // inodes that are directories
	syncs   int                       // fsyncs of files and directories
}

// newPowerFS starts recording at root; what is there now counts as durable.
func newPowerFS(t *testing.T, root string) *powerFS {
	t.Helper()
	p := &powerFS{root: root, vol: map[string]map[string]int{}, dur: map[string]map[string]int{},
		data: map[int][]byte{}, dirs: map[int]bool{}}
	var scan func(dir string)
	scan = func(dir string) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		p.vol[dir] = map[string]int{}
		for _, e := range entries {
			ino := p.newIno()
			p.vol[dir][e.Name()] = ino
			path := filepath.Join(dir, e.Name())
			if e.IsDir() {
				p.dirs[ino] = true
				scan(path)
				continue
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			p.data[ino] = b
		}
		p.dur[dir] = maps.Clone(p.vol[dir])
	}
	scan(root)
	return p
}

func (p *powerFS) newIno() int { p.nextIno++; return p.nextIno }

func (p *powerFS) OpenFile(name string, flag int, perm os.FileMode) (syncFile, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	if flag&os.O_TRUNC == 0 || flag&os.O_APPEND != 0 {
		f.Close()
		return nil, errors.New("powerFS: only O_TRUNC writes are modelled")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	dir, base := filepath.Split(name)
	dir = filepath.Clean(dir)
	ino, ok := p.vol[dir][base]
	if !ok {
		ino = p.newIno()
		p.vol[dir][base] = ino
	}
	return &powerFile{f: f, p: p, ino: ino}, nil
}

func (p *powerFS) Rename(oldpath, newpath string) error {
	if err := os.Rename(oldpath, newpath); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	od, ob := filepath.Split(oldpath)
	nd, nb := filepath.Split(newpath)
	od, nd = filepath.Clean(od), filepath.Clean(nd)
	p.vol[nd][nb] = p.vol[od][ob]
	delete(p.vol[od], ob)
	return nil
}

func (p *powerFS) Remove(name string) error {
	if err := os.Remove(name); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	dir, base := filepath.Split(name)
	delete(p.vol[filepath.Clean(dir)], base)
	return nil
}

func (p *powerFS) Mkdir(name string, perm os.FileMode) error {
	if err := os.Mkdir(name, perm); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	dir, base := filepath.Split(name)
	ino := p.newIno()
	p.dirs[ino] = true
	p.vol[filepath.Clean(dir)][base] = ino
	p.vol[filepath.Clean(name)] = map[string]int{}
	return nil
}

func (p *powerFS) SyncDir(dir string) error {
	if err := fsyncDir(dir); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	dir = filepath.Clean(dir)
	p.dur[dir] = maps.Clone(p.vol[dir])
	p.syncs++
	return nil
}

// powerFile records the content written (from offset 0: O_TRUNC only) and
// makes it durable on Sync.
type powerFile struct {
	f   *os.File
	p   *powerFS
	ino int
	buf []byte
}

func (f *powerFile) Write(b []byte) (int, error) {
	n, err := f.f.Write(b)
	f.buf = append(f.buf, b[:n]...)
	return n, err
}

func (f *powerFile) Sync() error {
	if err := f.f.Sync(); err != nil {
		return err
	}
	f.p.mu.Lock()
	defer f.p.mu.Unlock()
	f.p.data[f.ino] = append([]byte(nil), f.buf...)
	f.p.syncs++
	return nil
}

func (f *powerFile) Close() error { return f.f.Close() }

// PowerLoss replaces the tree under root by what a power loss would leave:
// the directory entries as of each directory's last fsync (a directory
// whose own entry was never made durable is lost with everything in it),
// and each file's content as of its last fsync (empty if never fsynced).
func (p *powerFS) PowerLoss(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	entries, err := os.ReadDir(p.root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(p.root, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	var restore func(dir string)
	restore = func(dir string) {
		for name, ino := range p.dur[dir] {
			path := filepath.Join(dir, name)
			if p.dirs[ino] {
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
				restore(path)
				continue
			}
			if err := os.WriteFile(path, p.data[ino], 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	restore(p.root)
}

// firstByteHash names files by the id's first byte: ids that share it form
// one chain, so removals move files within a chain.
func firstByteHash(id string) nameHash {
	var h nameHash
	h[0] = id[0]
	return h
}

// powerLossRun writes sessions and globals through a powerFS (new sessions
// in new fan-out directories, chains of colliding names, overwrites,
// removals from the middle of a chain, globals), simulates a power loss
// and reopens the directory. It returns the store after the power loss and
// what was acknowledged.
func powerLossRun(t *testing.T, fsync bool) (s *Store, sessions map[string]map[string]string, removed []string, globals map[string]string, pfs *powerFS) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Dir, cfg.SweepInterval, cfg.Fsync = dir, -1, fsync
	first, err := newStore(cfg, firstByteHash) // the layout, made durable at open
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	pfs = newPowerFS(t, dir)
	pcfg := cfg
	pcfg.fs = pfs
	w, err := newStore(pcfg, firstByteHash)
	if err != nil {
		t.Fatal(err)
	}
	sessions = map[string]map[string]string{}
	for i := range 24 {
		id := fmt.Sprintf("%c-user-%02d", 'a'+i%4, i) // chains of 6 in 4 fan-out directories
		v := fmt.Sprint("menu-", i)
		if _, err := w.Save(ctx, id, session.Field{Key: "stage", Value: []byte(v)}, session.Field{Key: "n", Value: []byte(id)}); err != nil {
			t.Fatal(err)
		}
		sessions[id] = map[string]string{"stage": v, "n": id}
	}
	for i := 0; i < 24; i += 3 { // overwrite in place
		id := fmt.Sprintf("%c-user-%02d", 'a'+i%4, i)
		v := fmt.Sprint("paid-", i)
		if _, err := w.Save(ctx, id, session.Field{Key: "stage", Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
		sessions[id]["stage"] = v
	}
	for _, id := range []string{"a-user-04", "b-user-01", "c-user-22"} { // from a chain's middle or end
		if _, err := w.Clear(ctx, id); err != nil {
			t.Fatal(err)
		}
		delete(sessions, id)
		removed = append(removed, id)
	}
	if _, err := w.Evict(ctx, "d-user-07", "n"); err != nil {
		t.Fatal(err)
	}
	delete(sessions["d-user-07"], "n")
	globals = map[string]string{}
	for _, k := range []string{"rates", "menu", "banner"} {
		if err := w.SaveGlobal(ctx, k, []byte(k+"-v1")); err != nil {
			t.Fatal(err)
		}
		globals[k] = k + "-v1"
	}
	if _, err := w.EvictGlobal(ctx, "banner"); err != nil {
		t.Fatal(err)
	}
	delete(globals, "banner")
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}

	pfs.PowerLoss(t)
	s, err = newStore(cfg, firstByteHash)
	if err != nil {
		t.Fatalf("reopen after the power loss: %v", err)
	}
	t.Cleanup(func() { s.Close(ctx) })
	return s, sessions, removed, globals, pfs
}

// TestPowerLossKeepsAcknowledgedWrites: with Fsync, every write
// acknowledged before a power loss is there after it, and every removal
// too: no session lost, none back from the dead, no file torn or empty.
// Unlike the SIGKILL test (the page cache survives a process crash), this
// fails if any fsync the layout needs is skipped: of the file before its
// rename, of the directory after the rename, after a removal or a move
// within a chain, or of the parent after a fan-out directory is made.
func TestPowerLossKeepsAcknowledgedWrites(t *testing.T) {
	ctx := context.Background()
	s, sessions, removed, globals, _ := powerLossRun(t, true)
	if n, err := s.Check(ctx); err != nil || n != len(sessions)+len(globals) {
		t.Fatalf("Check after the power loss: %d records (want %d), %v", n, len(sessions)+len(globals), err)
	}
	for id, want := range sessions {
		got, err := s.GetAll(ctx, id)
		if err != nil {
			t.Fatalf("GetAll(%s) after the power loss: %v", id, err)
		}
		gotS := map[string]string{}
		for k, v := range got {
			gotS[k] = string(v)
		}
		if !maps.Equal(gotS, want) {
			t.Fatalf("session %s after the power loss = %v, want %v (acknowledged)", id, gotS, want)
		}
	}
	for _, id := range removed {
		if got, err := s.GetAll(ctx, id); err != nil || len(got) != 0 {
			t.Fatalf("removed session %s after the power loss = %q, %v; want it gone", id, got, err)
		}
	}
	got, err := s.Globals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gotS := map[string]string{}
	for k, v := range got {
		gotS[k] = string(v)
	}
	if !maps.Equal(gotS, globals) {
		t.Fatalf("globals after the power loss = %v, want %v", gotS, globals)
	}
}

// The simulation must be able to lose data: without Fsync, the same run
// loses the sessions written after the store was opened.
func TestPowerLossWithoutFsyncLosesWrites(t *testing.T) {
	ctx := context.Background()
	s, sessions, _, _, pfs := powerLossRun(t, false)
	if pfs.syncs != 0 {
		t.Fatalf("%d fsyncs with Fsync off", pfs.syncs)
	}
	for id := range sessions {
		if got, err := s.GetAll(ctx, id); err != nil || len(got) != 0 {
			t.Fatalf("session %s survived a power loss without any fsync: %q, %v", id, got, err)
		}
	}
	if _, err := os.Stat(filepath.Join(s.cfg.Dir, sessionsDir, "61")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a fan-out directory made without fsync survived the power loss: %v", err)
	}
}
