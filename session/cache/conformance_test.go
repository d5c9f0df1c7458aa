package cache_test

import (
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/cache"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
	"github.com/sessiongrid/sessiongrid/session/sessiontest"
)

// TestConformance runs the suite on the suite's fake clock, which otter's
// expiry reads too.
func TestConformance(t *testing.T) {
	runConformance(t, sessiontest.Options{}, func(env sessiontest.Env) cache.Config {
		return cache.Config{MaxSessions: 10_000, DefaultIdle: env.DefaultIdle, Now: env.Now}
	})
}

// TestConformanceTouchOnRead runs the suite with sliding reads and a byte
// bound, the other code paths of the store.
func TestConformanceTouchOnRead(t *testing.T) {
	runConformance(t, sessiontest.Options{}, func(env sessiontest.Env) cache.Config {
		return cache.Config{MaxBytes: 256 << 20, DefaultIdle: env.DefaultIdle, TouchOnRead: true, Now: env.Now}
	})
}

// TestConformanceRealClock runs the suite on real time with short timeouts,
// where otter's own clean-up runs every second beside the store's checks.
func TestConformanceRealClock(t *testing.T) {
	runConformance(t, sessiontest.Options{RealClock: true}, func(env sessiontest.Env) cache.Config {
		return cache.Config{MaxSessions: 10_000, DefaultIdle: env.DefaultIdle}
	})
}

// runConformance runs the suite over caches configured by cfg, logging to
// the test.
func runConformance(t *testing.T, opts sessiontest.Options, cfg func(env sessiontest.Env) cache.Config) {
	sessiontest.RunWith(t, opts, func(t *testing.T, env sessiontest.Env) session.Manager {
		c := cfg(env)
		c.Logger = storetest.Logger(t)
		s, err := cache.New(c)
		if err != nil {
			t.Fatal(err)
		}
		return session.NewManager(s, session.Config{})
	})
}
