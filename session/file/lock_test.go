package file_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sessiongrid/sessiongrid/session/file"
)

const lockDirEnv = "SESSIONGRID_FILE_LOCK_DIR"

// TestLockChild is the child process of TestSecondProcessRefused; it does
// nothing in a normal run. It tries to open the directory and reports.
func TestLockChild(t *testing.T) {
	dir := os.Getenv(lockDirEnv)
	if dir == "" {
		return
	}
	cfg := file.DefaultConfig()
	cfg.Dir = dir
	s, err := file.New(cfg)
	switch {
	case errors.Is(err, file.ErrLocked):
		fmt.Printf("REFUSED %v\n", err)
	case err != nil:
		fmt.Printf("ERROR %v\n", err)
	default:
		fmt.Println("OPENED")
		_ = s.Close(t.Context())
	}
}

func TestSecondProcessRefused(t *testing.T) {
	dir := t.TempDir()
	child := func() string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestLockChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), lockDirEnv+"="+dir)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child: %v", err)
		}
		return string(out)
	}
	s := open(t, dir)
	out := child()
	if !strings.HasPrefix(out, "REFUSED ") || !strings.Contains(out, fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("child opening a held directory printed %q, want REFUSED naming pid %d", out, os.Getpid())
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if out := child(); !strings.HasPrefix(out, "OPENED") {
		t.Fatalf("child opening a released directory printed %q", out)
	}
}
