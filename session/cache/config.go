package cache

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/storeconfig"
)

// Config configures a Store. Exactly one of MaxSessions and MaxBytes bounds
// the cache.
type Config struct {
	// MaxSessions bounds the number of sessions held. DefaultConfig sets
	// 100,000; set it to 0 to bound by MaxBytes instead.
	MaxSessions int
	// MaxBytes bounds the session payload held, in bytes: the sum over
	// sessions of the id's length and the lengths of every data and prop
	// key and value. A single session over MaxBytes is refused with
	// session.ErrTooLarge.
	MaxBytes int64
	// DefaultIdle is the idle timeout of a new session; 30 minutes when 0.
	// session.NoExpiry disables idle expiry by default.
	DefaultIdle time.Duration
	// TouchOnRead makes reads slide the idle timeout too (writes always do).
	// A sliding read writes the session's entry, as a write does.
	TouchOnRead bool
	// MaxValueSize bounds one value; session.DefaultMaxValueSize when 0.
	MaxValueSize int
	// Now is the clock, shared with otter's expiry; time.Now when nil.
	Now func() time.Time
	// Logger receives the store's and otter's logs; slog.Default() when nil.
	Logger *slog.Logger
}

// DefaultConfig returns a configuration bounded at 100,000 sessions with a
// 30 minute idle timeout (the chatbot workload's population and both WCE
// engines' default).
func DefaultConfig() Config {
	return Config{
		MaxSessions:  100_000,
		DefaultIdle:  30 * time.Minute,
		MaxValueSize: session.DefaultMaxValueSize,
	}
}

// Validate reports a configuration that New would refuse.
func (c Config) Validate() error {
	switch {
	case c.MaxSessions < 0:
		return fmt.Errorf("cache: MaxSessions must not be negative, got %d", c.MaxSessions)
	case c.MaxBytes < 0:
		return fmt.Errorf("cache: MaxBytes must not be negative, got %d", c.MaxBytes)
	case c.MaxSessions > 0 && c.MaxBytes > 0:
		return fmt.Errorf("cache: set MaxSessions or MaxBytes, not both (got %d and %d)", c.MaxSessions, c.MaxBytes)
	case c.MaxSessions == 0 && c.MaxBytes == 0:
		return fmt.Errorf("cache: a bound is required: set MaxSessions or MaxBytes")
	}
	return c.shared().Validate("cache")
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.shared().Fill(d.shared())
	return c
}

// shared points at the fields every backend's Config has (a cache has no
// sweeper: otter expires entries itself).
func (c *Config) shared() storeconfig.Shared {
	return storeconfig.Shared{DefaultIdle: &c.DefaultIdle, MaxValueSize: &c.MaxValueSize, Now: &c.Now, Logger: &c.Logger}
}
