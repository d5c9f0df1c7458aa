package bolt_test

import (
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/bolt"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
)

// TestCrashChild is the child process of TestCrashRecovery; it does nothing
// in a normal run.
func TestCrashChild(t *testing.T) {
	storetest.CrashChild(func(path string) (session.Store, error) {
		cfg := bolt.DefaultConfig() // NoSync off: every commit is fsynced
		cfg.Path = path
		cfg.SweepInterval = -1
		return bolt.New(cfg)
	})
}

// TestCrashRecovery SIGKILLs writers to one database (storetest.RunCrash);
// Check covers bbolt's page check, every record's checksum and the expiry
// index.
func TestCrashRecovery(t *testing.T) {
	path := dbPath(t)
	storetest.RunCrash(t, path, func() storetest.Store { return open(t, path) })
}
