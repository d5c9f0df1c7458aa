package sessiontest_test

import (
	"log/slog"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
	"github.com/sessiongrid/sessiongrid/session/sessiontest"
)

// memoryManager returns a factory of managers over the memory store,
// configured from cfg and the suite's Env.
func memoryManager(cfg memory.Config) func(*testing.T, sessiontest.Env) session.Manager {
	return func(t *testing.T, env sessiontest.Env) session.Manager {
		t.Helper()
		return session.NewManager(newMemoryStore(t, env, cfg), session.Config{})
	}
}

// newMemoryStore returns a memory store wired to env: its clock, its idle
// timeout, no background sweep, logs to the test's output.
func newMemoryStore(t *testing.T, env sessiontest.Env, cfg memory.Config) *memory.Store {
	t.Helper()
	cfg.DefaultIdle = env.DefaultIdle
	if cfg.Now == nil {
		cfg.Now = env.Now
	}
	cfg.SweepInterval = -1
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	store, err := memory.New(cfg)
	if err != nil {
		t.Fatalf("memory.New: %v", err)
	}
	return store
}

func TestMemory(t *testing.T) {
	sessiontest.Run(t, memoryManager(memory.Config{}))
}

// TestMemoryTouchOnRead: the rules hold for a store whose reads slide the
// idle timeout too.
func TestMemoryTouchOnRead(t *testing.T) {
	sessiontest.Run(t, memoryManager(memory.Config{TouchOnRead: true}))
}

// TestMemoryOneShard: every session in one shard (one lock).
func TestMemoryOneShard(t *testing.T) {
	sessiontest.Run(t, memoryManager(memory.Config{Shards: 1}))
}

// TestMemoryRealClock runs the real-clock mode of the suite, the one used
// for backends that cannot take a fake clock.
func TestMemoryRealClock(t *testing.T) {
	if testing.Short() {
		t.Skip("real-clock expiry rules sleep for a few seconds in total")
	}
	sessiontest.RunWith(t, sessiontest.Options{RealClock: true}, memoryManager(memory.Config{}))
}
