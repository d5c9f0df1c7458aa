package bolt_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/bolt"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
	"github.com/sessiongrid/sessiongrid/session/sessiontest"
)

func TestConformance(t *testing.T) {
	variants := []struct {
		name   string
		noSync bool
		batch  bool
	}{
		{"Sync", false, false},
		{"NoSync", true, false},
		{"SyncBatch", false, true},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			sessiontest.Run(t, func(t *testing.T, env sessiontest.Env) session.Manager {
				cfg := bolt.DefaultConfig()
				cfg.Path = filepath.Join(t.TempDir(), "sessions.db")
				cfg.NoSync = v.noSync
				cfg.Batch, cfg.BatchDelay = v.batch, 200*time.Microsecond
				cfg.DefaultIdle = env.DefaultIdle
				cfg.Now = env.Now
				cfg.SweepInterval = -1
				cfg.Logger = storetest.Logger(t)
				s, err := bolt.New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				return session.NewManager(s, session.Config{})
			})
		})
	}
}
