package file_test

import (
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/file"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
)

// TestCrashChild is the child process of TestCrashRecovery; it does nothing
// in a normal run.
func TestCrashChild(t *testing.T) {
	storetest.CrashChild(func(dir string) (session.Store, error) {
		cfg := file.DefaultConfig() // Fsync on
		cfg.Dir = dir
		cfg.SweepInterval = -1
		return file.New(cfg)
	})
}

// TestCrashRecovery SIGKILLs writers to one directory (storetest.RunCrash);
// Check verifies every file.
func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	storetest.RunCrash(t, dir, func() storetest.Store { return open(t, dir) })
}
