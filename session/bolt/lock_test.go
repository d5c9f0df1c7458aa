package bolt_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session/bolt"
)

const lockPathEnv = "SESSIONGRID_BOLT_LOCK_PATH"

// TestLockChild is the child process of TestSecondProcessRefused; it does
// nothing in a normal run. It tries to open the database and reports.
func TestLockChild(t *testing.T) {
	path := os.Getenv(lockPathEnv)
	if path == "" {
		return
	}
	cfg := bolt.DefaultConfig()
	cfg.Path = path
	cfg.Timeout = 50 * time.Millisecond
	s, err := bolt.New(cfg)
	switch {
	case errors.Is(err, bolt.ErrLocked):
		fmt.Printf("REFUSED %v\n", err)
	case err != nil:
		fmt.Printf("ERROR %v\n", err)
	default:
		fmt.Println("OPENED")
		_ = s.Close(t.Context())
	}
}

func TestSecondProcessRefused(t *testing.T) {
	path := dbPath(t)
	child := func() string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestLockChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), lockPathEnv+"="+path)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child: %v", err)
		}
		return string(out)
	}
	s := open(t, path)
	out := child()
	if !strings.HasPrefix(out, "REFUSED ") {
		t.Fatalf("child opening a held database printed %q, want REFUSED", out)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if out := child(); !strings.HasPrefix(out, "OPENED") {
		t.Fatalf("child opening a released database printed %q", out)
	}
}
