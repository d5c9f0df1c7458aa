package cache_test

import (
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/cache"
	"github.com/sessiongrid/sessiongrid/session/sessiontest"
)

// TestConformance runs the suite on the suite's fake clock, which otter's
// expiry reads too.
func TestConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T, env sessiontest.Env) session.Manager {
		s, err := cache.New(cache.Config{
			MaxSessions: 10_000,
			DefaultIdle: env.DefaultIdle,
			Now:         env.Now,
			Logger:      testLogger(t),
		})
		if err != nil {
			t.Fatal(err)
		}
		return session.NewManager(s, session.Config{})
	})
}

// TestConformanceTouchOnRead runs the suite with sliding reads and a byte
// bound, the other code paths of the store.
func TestConformanceTouchOnRead(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T, env sessiontest.Env) session.Manager {
		s, err := cache.New(cache.Config{
			MaxBytes:    256 << 20,
			DefaultIdle: env.DefaultIdle,
			TouchOnRead: true,
			Now:         env.Now,
			Logger:      testLogger(t),
		})
		if err != nil {
			t.Fatal(err)
		}
		return session.NewManager(s, session.Config{})
	})
}

// TestConformanceRealClock runs the suite on real time with short timeouts,
// where otter's own clean-up runs every second beside the store's checks.
func TestConformanceRealClock(t *testing.T) {
	sessiontest.RunWith(t, sessiontest.Options{RealClock: true}, func(t *testing.T, env sessiontest.Env) session.Manager {
		s, err := cache.New(cache.Config{
			MaxSessions: 10_000,
			DefaultIdle: env.DefaultIdle,
			Logger:      testLogger(t),
		})
		if err != nil {
			t.Fatal(err)
		}
		return session.NewManager(s, session.Config{})
	})
}
