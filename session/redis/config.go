package redis

import (
	"cmp"
	"fmt"
	"log/slog"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// Mode selects the commands the store sends.
type Mode uint8

// Modes.
const (
	// ModeScript targets redis-server (7.0 or later): sessions laid out as
	// tagged hashes, writes as Lua scripts.
	ModeScript Mode = iota
	// ModeGridnode targets gridnode: its native session commands, no
	// scripts.
	ModeGridnode
)

// String returns the mode's name.
func (m Mode) String() string {
	switch m {
	case ModeScript:
		return "script"
	case ModeGridnode:
		return "gridnode"
	default:
		return fmt.Sprintf("Mode(%d)", uint8(m))
	}
}

// Config configures a Store.
type Config struct {
	// Network is "tcp" (default) or "unix".
	Network string
	// Addr is host:port for tcp, the socket's path for unix.
	Addr string
	// Username and Password authenticate (AUTH / HELLO); empty for none.
	Username string
	Password string
	// DB is the Redis database number (gridnode serves only 0).
	DB int
	// Protocol is the RESP version spoken: 3 (default) or 2.
	Protocol int
	// Prefix starts every key this store writes, so that several
	// applications share one server. DefaultConfig sets "sessiongrid:";
	// DefaultGridnodeConfig sets "" so that the RESP key is the session id
	// as other clients of the grid see it.
	Prefix string
	// Mode selects redis-server (ModeScript) or gridnode (ModeGridnode).
	Mode Mode
	// DefaultIdle is the idle timeout of a new session; 30 minutes when 0;
	// session.NoExpiry for none. Redis counts milliseconds: a timeout is
	// rounded up to whole milliseconds. Must be 0 in ModeGridnode, where the
	// node's configuration decides.
	DefaultIdle time.Duration
	// TouchOnRead makes reads slide the idle timeout too (writes always
	// do); reads then run as scripts. Must be false in ModeGridnode.
	TouchOnRead bool
	// MaxValueSize bounds one value; session.DefaultMaxValueSize when 0.
	MaxValueSize int
	// PoolSize is the number of connections kept; go-redis's default
	// (10 per CPU) when 0.
	PoolSize int
	// DialTimeout bounds connecting, and the check New makes; 5 s when 0.
	DialTimeout time.Duration
	// ReadTimeout and WriteTimeout bound one command's socket I/O; 3 s
	// when 0. A context deadline applies too.
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// Logger receives the store's logs; slog.Default() when nil.
	Logger *slog.Logger
}

// DefaultConfig returns the configuration for a local redis-server.
func DefaultConfig() Config {
	return Config{
		Network:      "tcp",
		Addr:         "127.0.0.1:6379",
		Prefix:       "sessiongrid:",
		Mode:         ModeScript,
		DefaultIdle:  30 * time.Minute,
		MaxValueSize: session.DefaultMaxValueSize,
		DialTimeout:  5 * time.Second,
		ReadTimeout:  3 * time.Second,
		WriteTimeout: 3 * time.Second,
	}
}

// DefaultGridnodeConfig returns the configuration for a local gridnode.
func DefaultGridnodeConfig() Config {
	c := DefaultConfig()
	c.Mode = ModeGridnode
	c.Prefix = ""
	c.DefaultIdle = 0
	return c
}

// Validate reports a configuration that New would refuse.
func (c Config) Validate() error {
	switch {
	case c.Network != "" && c.Network != "tcp" && c.Network != "unix":
		return fmt.Errorf("redis: Network must be tcp or unix, got %q", c.Network)
	case c.Addr == "":
		return fmt.Errorf("redis: Addr is required")
	case c.Mode != ModeScript && c.Mode != ModeGridnode:
		return fmt.Errorf("redis: unknown %v", c.Mode)
	case c.Protocol != 0 && c.Protocol != 2 && c.Protocol != 3:
		return fmt.Errorf("redis: Protocol must be 2 or 3, got %d", c.Protocol)
	case c.DB < 0:
		return fmt.Errorf("redis: DB must not be negative, got %d", c.DB)
	case c.MaxValueSize < 0:
		return fmt.Errorf("redis: MaxValueSize must not be negative, got %d", c.MaxValueSize)
	case c.PoolSize < 0:
		return fmt.Errorf("redis: PoolSize must not be negative, got %d", c.PoolSize)
	case c.DialTimeout < 0 || c.ReadTimeout < 0 || c.WriteTimeout < 0:
		return fmt.Errorf("redis: timeouts must not be negative")
	case c.DefaultIdle < 0 && c.DefaultIdle != session.NoExpiry:
		return fmt.Errorf("redis: DefaultIdle must be positive, 0 (default) or session.NoExpiry, got %v", c.DefaultIdle)
	case c.Mode == ModeGridnode && c.DefaultIdle != 0:
		return fmt.Errorf("redis: DefaultIdle is gridnode's own setting in ModeGridnode; leave it 0 (got %v)", c.DefaultIdle)
	case c.Mode == ModeGridnode && c.TouchOnRead:
		return fmt.Errorf("redis: TouchOnRead is gridnode's own setting in ModeGridnode")
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.Network = cmp.Or(c.Network, d.Network)
	c.Protocol = cmp.Or(c.Protocol, 3)
	if c.Mode == ModeScript {
		c.DefaultIdle = cmp.Or(c.DefaultIdle, d.DefaultIdle)
	}
	c.MaxValueSize = cmp.Or(c.MaxValueSize, d.MaxValueSize)
	c.DialTimeout = cmp.Or(c.DialTimeout, d.DialTimeout)
	c.ReadTimeout = cmp.Or(c.ReadTimeout, d.ReadTimeout)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, d.WriteTimeout)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	return c
}

// millis converts d to whole milliseconds, rounding up, for Redis.
func millis(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// expiryArgs returns the idle and TTL arguments, in milliseconds, of the
// commands that set an expiry (gridnode's SESSION.EXPIRY, the set-expiry
// script), with session.Expiry's meanings: idle 0 keeps the current idle
// timeout and -1 disables it; ttl 0 removes the absolute deadline.
func expiryArgs(x session.Expiry) (idle, ttl int64) {
	switch {
	case x.Idle > 0:
		idle = millis(x.Idle)
	case x.Idle < 0:
		idle = -1
	}
	if x.TTL > 0 {
		ttl = millis(x.TTL)
	}
	return idle, ttl
}
