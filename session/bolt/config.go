package bolt

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/storeconfig"
)

// Config configures a Store.
type Config struct {
	// Path is the database file; it is created if missing. Required.
	Path string
	// NoSync skips the fsyncs of each commit (bbolt's DB.NoSync). A crash of
	// the process still loses nothing (the page cache survives it), but a
	// power loss can lose recent writes or damage the file. Off by default.
	NoSync bool
	// Timeout bounds how long New waits for the file lock when another
	// process holds the database; 1 s when 0. New then fails with an error
	// matching ErrLocked.
	Timeout time.Duration
	// Batch runs writes through bbolt's DB.Batch: concurrent writes share
	// one transaction and one fsync (each operation stays atomic), which
	// raises write throughput under concurrency at the cost of up to
	// BatchDelay of latency per write.
	Batch bool
	// BatchDelay is how long a batched write waits for others to join its
	// transaction (bbolt's MaxBatchDelay); 1 ms when 0. Near the fsync
	// time of the disk is a good value.
	BatchDelay time.Duration
	// DefaultIdle is the idle timeout of a new session; 30 minutes when 0.
	// session.NoExpiry disables idle expiry by default.
	DefaultIdle time.Duration
	// TouchOnRead makes reads slide the idle timeout too (writes always
	// do). Each such read is then a write transaction.
	TouchOnRead bool
	// MaxValueSize bounds one value; session.DefaultMaxValueSize when 0.
	MaxValueSize int
	// SweepInterval is the period of the background sweep that deletes
	// expired sessions; 1 s when 0, no background goroutine when negative
	// (call Sweep yourself). A sweep reads only the expired part of the
	// expiry index.
	SweepInterval time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives the store's logs; slog.Default() when nil.
	Logger *slog.Logger
}

// DefaultConfig returns the configuration used for zero fields. Set Path
// before calling New.
func DefaultConfig() Config {
	return Config{
		Timeout:       time.Second,
		BatchDelay:    time.Millisecond,
		DefaultIdle:   30 * time.Minute,
		MaxValueSize:  session.DefaultMaxValueSize,
		SweepInterval: time.Second,
	}
}

// Validate reports a configuration that New would refuse.
func (c Config) Validate() error {
	if c.Path == "" {
		return errors.New("bolt: Config.Path is required")
	}
	if c.Timeout < 0 {
		return fmt.Errorf("bolt: Timeout must not be negative, got %v", c.Timeout)
	}
	if c.BatchDelay < 0 {
		return fmt.Errorf("bolt: BatchDelay must not be negative, got %v", c.BatchDelay)
	}
	return c.shared().Validate("bolt")
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.Timeout = cmp.Or(c.Timeout, d.Timeout)
	c.BatchDelay = cmp.Or(c.BatchDelay, d.BatchDelay)
	c.shared().Fill(d.shared())
	return c
}

// shared points at the fields every backend's Config has.
func (c *Config) shared() storeconfig.Shared {
	return storeconfig.Shared{DefaultIdle: &c.DefaultIdle, MaxValueSize: &c.MaxValueSize, SweepInterval: &c.SweepInterval, Now: &c.Now, Logger: &c.Logger}
}
