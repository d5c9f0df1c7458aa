package file_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/file"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
)

// open opens a store in dir with fsync off and no background sweeper.
func open(t *testing.T, dir string, mod ...func(*file.Config)) *file.Store {
	t.Helper()
	cfg := file.DefaultConfig()
	cfg.Dir, cfg.Fsync, cfg.SweepInterval, cfg.Logger = dir, false, -1, storetest.Logger(t)
	return storetest.Open(t, file.New, cfg, mod...)
}

func withNow(now func() time.Time) func(*file.Config) {
	return func(cfg *file.Config) { cfg.Now = now }
}

// sessionFiles returns every file under dir/sessions, relative to dir.
func sessionFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(dir, "sessions"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var sessionName = regexp.MustCompile(`^sessions/([0-9a-f]{2})/([0-9a-f]{32})$`)

func TestIDsMapToSafeDistinctNames(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	ids := []string{
		"263771234567", "../../etc/passwd", "a/b", `a\b`, "A", "a", "Session", "session", "SESSION",
		"global", "globals", "LOCK", "FORMAT", ".", "..", "con", "nul\x00byte", "\xff\xfe not utf-8",
		"用户 👋", "semi;colon", "space ", " space", "*", "?", "x.tmp",
		strings.Repeat("long", 1024),          // 4 KiB
		strings.Repeat("L", session.MaxIDLen), // the longest id allowed
	}
	for i, id := range ids {
		storetest.MustSave(t, s, id, "k", fmt.Sprint(i))
	}
	for i, id := range ids {
		storetest.MustGet(t, s, id, "k", fmt.Sprint(i))
	}
	files := sessionFiles(t, dir)
	if len(files) != len(ids) {
		t.Fatalf("%d session files for %d ids: %v", len(files), len(ids), files)
	}
	seen := map[string]bool{}
	for _, f := range files {
		m := sessionName.FindStringSubmatch(filepath.ToSlash(f))
		if m == nil || m[1] != m[2][:2] {
			t.Errorf("file %q is not sessions/<hh>/<32 lowercase hex>", f)
			continue
		}
		if seen[strings.ToLower(f)] {
			t.Errorf("two files differ only in case: %q", f)
		}
		seen[strings.ToLower(f)] = true
	}
	// Globals sit elsewhere: the session "global" and the global "global"
	// do not meet.
	ctx := context.Background()
	if err := s.SaveGlobal(ctx, "global", []byte("G")); err != nil {
		t.Fatal(err)
	}
	storetest.MustGet(t, s, "global", "k", "9")
	if g, err := s.GetGlobal(ctx, "global"); err != nil || string(g) != "G" {
		t.Fatalf("GetGlobal(global) = %q, %v", g, err)
	}
	if got := len(sessionFiles(t, dir)); got != len(ids) {
		t.Fatalf("SaveGlobal wrote into sessions/: %d files", got)
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, clock := storetest.PersistsAcrossReopen(t, func(now func() time.Time) storetest.Store {
		return open(t, dir, withNow(now))
	}, 10*time.Minute, nil)
	clock.Advance(time.Hour)
	if _, err := s.Get(context.Background(), "u1", "stage"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get after the idle timeout: %v, want ErrNotFound", err)
	}
}

func TestSecondOpenerRefused(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	cfg := file.DefaultConfig()
	cfg.Dir = dir
	_, err := file.New(cfg)
	if !errors.Is(err, file.ErrLocked) {
		t.Fatalf("second New: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("error %q does not name the holder's pid", err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, dir) // released by Close
	storetest.MustSave(t, s2, "a", "k", "v")
}

func TestCorruptionIsReported(t *testing.T) {
	ctx := context.Background()
	for _, d := range storetest.Damages {
		t.Run(d.Name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir)
			storetest.MustSave(t, s, "victim", "stage", "menu-with-some-length")
			storetest.MustSave(t, s, "bystander", "stage", "ok")
			var victim string
			for _, f := range sessionFiles(t, dir) {
				b, _ := os.ReadFile(filepath.Join(dir, f))
				if bytes.Contains(b, []byte("victim")) {
					victim = filepath.Join(dir, f)
				}
			}
			b, err := os.ReadFile(victim)
			if err != nil {
				t.Fatal(err)
			}
			damaged := d.Apply(b)
			if err := os.WriteFile(victim, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, "victim", "stage"); !errors.Is(err, file.ErrCorrupt) {
				t.Errorf("Get: %v, want ErrCorrupt", err)
			}
			if _, err := s.GetAll(ctx, "victim"); !errors.Is(err, file.ErrCorrupt) {
				t.Errorf("GetAll: %v, want ErrCorrupt", err)
			}
			if _, err := s.Save(ctx, "victim", session.Field{Key: "k", Value: []byte("v")}); !errors.Is(err, file.ErrCorrupt) {
				t.Errorf("Save over a corrupt file: %v, want ErrCorrupt", err)
			}
			after, _ := os.ReadFile(victim)
			if !bytes.Equal(after, damaged) {
				t.Errorf("the corrupt file was rewritten")
			}
			storetest.MustGet(t, s, "bystander", "stage", "ok")
			if n, err := s.Sweep(ctx); err != nil || n != 0 {
				t.Errorf("Sweep = %d, %v; want 0, nil (corrupt files are skipped)", n, err)
			}
			storetest.MustFindCorrupt(t, s, 1, file.ErrCorrupt, func() uint64 { return s.Stats().Corrupt })
		})
	}
}

func TestMisplacedFileIsCorrupt(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	storetest.MustSave(t, s, "a", "k", "1")
	storetest.MustSave(t, s, "b", "k", "2")
	files := sessionFiles(t, dir)
	// Copy a's file over b's name: b's lookup reads a's id and must not
	// return a's data as b's.
	var fa, fb string
	for _, f := range files {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		switch {
		case bytes.Contains(b, []byte{1, 'a'}):
			fa = f
		case bytes.Contains(b, []byte{1, 'b'}):
			fb = f
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, fa))
	if err := os.WriteFile(filepath.Join(dir, fb), b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// b's slot now holds a's id: b reads as missing (a's file shadows no one).
	if _, err := s.Get(ctx, "b", "k"); err == nil {
		t.Fatal("Get(b) returned a's data")
	}
	if _, err := s.Check(ctx); !errors.Is(err, file.ErrCorrupt) {
		t.Fatalf("Check: %v, want ErrCorrupt for a misplaced file", err)
	}
}

func TestSweepRemovesExpiredFilesAndTemps(t *testing.T) {
	dir := t.TempDir()
	clock := storetest.NewClock()
	s := open(t, dir, withNow(clock.Now))
	ctx := context.Background()
	for i := range 20 {
		storetest.MustSave(t, s, fmt.Sprint("old", i), "k", "v")
	}
	clock.Advance(20 * time.Minute)
	for i := range 5 {
		storetest.MustSave(t, s, fmt.Sprint("new", i), "k", "v")
	}
	// A crash leaves a temporary file behind.
	tmp := filepath.Join(dir, "sessions", "ab", strings.Repeat("ab", 16)+".tmp")
	if err := os.MkdirAll(filepath.Dir(tmp), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmp, []byte("half a write"), 0o600); err != nil {
		t.Fatal(err)
	}
	clock.Advance(15 * time.Minute) // old: 35m idle, new: 15m
	n, err := s.Sweep(ctx)
	if err != nil || n != 20 {
		t.Fatalf("Sweep = %d, %v; want 20", n, err)
	}
	if got := len(sessionFiles(t, dir)); got != 5 {
		t.Fatalf("%d files left, want 5", got)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("temporary file left: %v", err)
	}
	if s.Stats().Expired != 20 {
		t.Fatalf("Stats().Expired = %d", s.Stats().Expired)
	}
}

func TestBackgroundSweeper(t *testing.T) {
	dir := t.TempDir()
	clock := storetest.NewClock()
	s := open(t, dir, withNow(clock.Now), func(c *file.Config) { c.SweepInterval = 5 * time.Millisecond })
	storetest.MustSave(t, s, "a", "k", "v")
	clock.Advance(time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for len(sessionFiles(t, dir)) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the background sweeper did not remove the expired file")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLargeValues(t *testing.T) {
	s := open(t, t.TempDir())
	ctx := context.Background()
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	if _, err := s.Save(ctx, "u", session.Field{Key: "big", Value: big}, session.Field{Key: "small", Value: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "u", "big")
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Get(big): %d bytes, %v", len(got), err)
	}
	tooBig := make([]byte, session.DefaultMaxValueSize+1)
	if _, err := s.Save(ctx, "u", session.Field{Key: "huge", Value: tooBig}); !errors.Is(err, session.ErrTooLarge) {
		t.Fatalf("Save over the limit: %v, want ErrTooLarge", err)
	}
}

func TestClosedAndCancelled(t *testing.T) {
	storetest.ClosedAndCancelled(t, open(t, t.TempDir()))
}

func TestConfig(t *testing.T) {
	if err := (file.Config{}).Validate(); err == nil {
		t.Error("Validate accepted an empty Dir")
	}
	cfg := file.DefaultConfig()
	cfg.Dir = t.TempDir()
	cfg.MaxValueSize = -1
	if _, err := file.New(cfg); err == nil {
		t.Error("New accepted a negative MaxValueSize")
	}
	// A directory with a foreign FORMAT is refused.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "FORMAT"), []byte("something else\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg = file.DefaultConfig()
	cfg.Dir = dir
	if s, err := file.New(cfg); err == nil {
		_ = s.Close(context.Background())
		t.Error("New opened a directory of another format")
	}
	// Nor is a directory that holds something else.
	busy := t.TempDir()
	if err := os.WriteFile(filepath.Join(busy, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Dir = busy
	if s, err := file.New(cfg); err == nil {
		_ = s.Close(context.Background())
		t.Error("New took over a directory holding other files")
	}
	// The failed New released its lock.
	if err := os.Remove(filepath.Join(dir, "FORMAT")); err != nil {
		t.Fatal(err)
	}
	open(t, dir)
}

// TestConcurrentWritersOneSession checks that read-modify-write operations
// on one session from many goroutines lose nothing.
func TestConcurrentWritersOneSession(t *testing.T) {
	storetest.ConcurrentWriters(t, open(t, t.TempDir()))
}
