package file_test

import (
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/file"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
	"github.com/sessiongrid/sessiongrid/session/sessiontest"
)

func TestConformance(t *testing.T) {
	for _, fsync := range []bool{false, true} {
		name := "NoFsync"
		if fsync {
			name = "Fsync"
		}
		t.Run(name, func(t *testing.T) {
			sessiontest.Run(t, func(t *testing.T, env sessiontest.Env) session.Manager {
				cfg := file.DefaultConfig()
				cfg.Dir = t.TempDir()
				cfg.Fsync = fsync
				cfg.DefaultIdle = env.DefaultIdle
				cfg.Now = env.Now
				cfg.SweepInterval = -1
				cfg.Logger = storetest.Logger(t)
				s, err := file.New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				return session.NewManager(s, session.Config{})
			})
		})
	}
}
