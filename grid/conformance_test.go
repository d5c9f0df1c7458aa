package grid_test

import (
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/gridserver/gridtest"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/sessiontest"
)

// TestConformance runs the contract's suite through the routers of a
// 3-member grid: each rule runs through the next member in turn, so most
// calls cross the internal transport to the owner.
func TestConformance(t *testing.T) {
	g := newTestGrid(t, 3)
	turn := 0
	sessiontest.Run(t, func(t *testing.T, env sessiontest.Env) session.Manager {
		if env.DefaultIdle != sessiontest.FakeIdle {
			t.Fatalf("the grid's stores idle out after %v, the suite wants %v", sessiontest.FakeIdle, env.DefaultIdle)
		}
		now := env.Now
		g.now.Store(&now)
		live := g.live()
		r := live[turn%len(live)].node.Router(nil)
		turn++
		gridtest.Wipe(t, r)
		return session.NewManager(r, session.Config{})
	})
	restore := time.Now
	g.now.Store(&restore)
}
