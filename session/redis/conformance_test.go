package redis_test

import (
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	redisstore "github.com/sessiongrid/sessiongrid/session/redis"
	"github.com/sessiongrid/sessiongrid/session/sessiontest"
)

// TestConformance runs the suite against a real redis-server, on real time
// (redis-server's clock cannot be faked): one server for the whole suite,
// one key prefix per subtest so that each starts empty.
func TestConformance(t *testing.T) {
	srv := startRedis(t)
	sessiontest.RunWith(t, sessiontest.Options{RealClock: true}, func(t *testing.T, env sessiontest.Env) session.Manager {
		return session.NewManager(newStore(t, srv, redisstore.Config{DefaultIdle: env.DefaultIdle}), session.Config{})
	})
}

// TestConformanceTouchOnRead runs the suite with sliding reads, where every
// read is a script.
func TestConformanceTouchOnRead(t *testing.T) {
	srv := startRedis(t)
	sessiontest.RunWith(t, sessiontest.Options{RealClock: true}, func(t *testing.T, env sessiontest.Env) session.Manager {
		return session.NewManager(newStore(t, srv, redisstore.Config{DefaultIdle: env.DefaultIdle, TouchOnRead: true}), session.Config{})
	})
}
