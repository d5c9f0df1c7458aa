package bolt_test

import (
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/bolt"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
)

// TestLockChild is the child process of TestSecondProcessRefused; it does
// nothing in a normal run. It tries to open the database and reports.
func TestLockChild(t *testing.T) {
	storetest.LockChild(t, func(path string) (session.Store, error) {
		cfg := bolt.DefaultConfig()
		cfg.Path = path
		cfg.Timeout = 50 * time.Millisecond
		return bolt.New(cfg)
	}, bolt.ErrLocked)
}

func TestSecondProcessRefused(t *testing.T) {
	path := dbPath(t)
	storetest.RunSecondProcess(t, path, open(t, path), "")
}
