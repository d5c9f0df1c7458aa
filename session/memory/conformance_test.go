package memory_test

import (
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
	"github.com/sessiongrid/sessiongrid/session/sessiontest"
)

func TestConformance(t *testing.T) {
	for _, touch := range []bool{false, true} {
		name := "TouchOnWrite"
		if touch {
			name = "TouchOnRead"
		}
		t.Run(name, func(t *testing.T) {
			sessiontest.Run(t, func(t *testing.T, env sessiontest.Env) session.Manager {
				s, err := memory.New(memory.Config{
					DefaultIdle:   env.DefaultIdle,
					TouchOnRead:   touch,
					Now:           env.Now,
					SweepInterval: -1,
					Shards:        4, // small, so that concurrent tests share shards
				})
				if err != nil {
					t.Fatal(err)
				}
				return session.NewManager(s, session.Config{})
			})
		})
	}
}
