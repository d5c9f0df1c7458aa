package memory

import (
	"cmp"
	"fmt"
	"log/slog"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/storeconfig"
)

// Config configures a Store.
type Config struct {
	// Shards is the number of lock shards, a power of two; 64 when 0.
	Shards int
	// DefaultIdle is the idle timeout of a new session; 30 minutes when 0.
	// session.NoExpiry disables idle expiry by default.
	DefaultIdle time.Duration
	// TouchOnRead makes reads slide the idle timeout too (writes always do).
	TouchOnRead bool
	// MaxValueSize bounds one value; session.DefaultMaxValueSize when 0,
	// at most MaxValueLimit.
	MaxValueSize int
	// SweepInterval is the period of the background sweep that reclaims
	// expired sessions; 1 s when 0, no background goroutine when negative
	// (call Sweep yourself).
	SweepInterval time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives the store's logs; slog.Default() when nil.
	Logger *slog.Logger
}

// MaxValueLimit is the largest MaxValueSize the store accepts: a key's
// bytes are addressed with 32-bit offsets (Redis caps a string at 512 MB).
const MaxValueLimit = 1 << 30

// DefaultConfig returns the configuration used for zero fields.
func DefaultConfig() Config {
	return Config{
		Shards:        64,
		DefaultIdle:   30 * time.Minute,
		MaxValueSize:  session.DefaultMaxValueSize,
		SweepInterval: time.Second,
	}
}

// Validate reports a configuration that New would refuse.
func (c Config) Validate() error {
	if c.Shards < 0 || c.Shards > 1<<16 || (c.Shards != 0 && c.Shards&(c.Shards-1) != 0) {
		return fmt.Errorf("memory: Shards must be a power of two up to 65536, got %d", c.Shards)
	}
	if c.MaxValueSize > MaxValueLimit {
		return fmt.Errorf("memory: MaxValueSize must be at most %d (1 GiB), got %d", MaxValueLimit, c.MaxValueSize)
	}
	return c.shared().Validate("memory")
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.Shards = cmp.Or(c.Shards, d.Shards)
	c.shared().Fill(d.shared())
	return c
}

// shared points at the fields every backend's Config has.
func (c *Config) shared() storeconfig.Shared {
	return storeconfig.Shared{DefaultIdle: &c.DefaultIdle, MaxValueSize: &c.MaxValueSize, SweepInterval: &c.SweepInterval, Now: &c.Now, Logger: &c.Logger}
}
