package file_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/file"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
)

// TestLockChild is the child process of TestSecondProcessRefused; it does
// nothing in a normal run. It tries to open the directory and reports.
func TestLockChild(t *testing.T) {
	storetest.LockChild(t, func(dir string) (session.Store, error) {
		cfg := file.DefaultConfig()
		cfg.Dir = dir
		return file.New(cfg)
	}, file.ErrLocked)
}

// TestSecondProcessRefused also checks that the refusal names the holder's
// pid.
func TestSecondProcessRefused(t *testing.T) {
	dir := t.TempDir()
	storetest.RunSecondProcess(t, dir, open(t, dir), fmt.Sprintf("pid %d", os.Getpid()))
}
