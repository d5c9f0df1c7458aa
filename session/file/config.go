package file

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
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
	if c.MaxValueSize < 0 {
		return fmt.Errorf("file: MaxValueSize must not be negative, got %d", c.MaxValueSize)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.DefaultIdle == 0 {
		c.DefaultIdle = d.DefaultIdle
	}
	if c.MaxValueSize == 0 {
		c.MaxValueSize = d.MaxValueSize
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = d.SweepInterval
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.fs == nil {
		c.fs = osFS{}
	}
	return c
}
