package file

import (
	"errors"
	"log/slog"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/storeconfig"
)

// Config configures a Store. Start from DefaultConfig: a zero Config has
// Fsync off.
type Config struct {
	// Dir is the directory holding the store; it is created if missing.
	// Required.
	Dir string
	// Fsync makes every acknowledged write durable across a power loss:
	// the new file is fsynced before the rename that publishes it, and the
	// directory after it. Without it a write is still atomic (a crash of
	// the process never tears a session, since the page cache survives it),
	// but the last writes may be lost if the machine goes down. DefaultConfig
	// turns it on.
	Fsync bool
	// DefaultIdle is the idle timeout of a new session; 30 minutes when 0.
	// session.NoExpiry disables idle expiry by default.
	DefaultIdle time.Duration
	// TouchOnRead makes reads slide the idle timeout too (writes always
	// do). Each such read then rewrites the session file.
	TouchOnRead bool
	// MaxValueSize bounds one value; session.DefaultMaxValueSize when 0.
	MaxValueSize int
	// SweepInterval is the period of the background sweep that deletes the
	// files of expired sessions; 1 minute when 0, no background goroutine
	// when negative (call Sweep yourself). A sweep walks every file (it
	// reads only the 32-byte header of each), so it is O(sessions).
	SweepInterval time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives the store's logs; slog.Default() when nil.
	Logger *slog.Logger

	// fs carries the store's writes; the os when nil (set by tests only).
	fs fsys
}

// DefaultConfig returns the configuration used for zero fields, with Fsync
// on. Set Dir before calling New.
func DefaultConfig() Config {
	return Config{
		Fsync:         true,
		DefaultIdle:   30 * time.Minute,
		MaxValueSize:  session.DefaultMaxValueSize,
		SweepInterval: time.Minute,
	}
}

// Validate reports a configuration that New would refuse.
func (c Config) Validate() error {
	if c.Dir == "" {
		return errors.New("file: Config.Dir is required")
	}
	return c.shared().Validate("file")
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.shared().Fill(d.shared())
	if c.fs == nil {
		c.fs = osFS{}
	}
	return c
}

// shared points at the fields every backend's Config has.
func (c *Config) shared() storeconfig.Shared {
	return storeconfig.Shared{DefaultIdle: &c.DefaultIdle, MaxValueSize: &c.MaxValueSize, SweepInterval: &c.SweepInterval, Now: &c.Now, Logger: &c.Logger}
}
