package server

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// Defaults of Config.
const (
	DefaultAddr            = "127.0.0.1:6379"
	DefaultMaxConnections  = 10000
	DefaultMaxRequestBytes = 64 << 20
)

// Config configures a Server. The zero value of a field means its default
// (see DefaultConfig); New copies the Config and never changes it.
type Config struct {
	// Addr is the address ListenAndServe listens on. Serve ignores it.
	Addr string
	// Password, when not empty, is required (AUTH, or HELLO ... AUTH)
	// before any command other than AUTH, HELLO and QUIT is served.
	Password string
	// MaxConnections bounds the open client connections; a client over it
	// gets "-ERR max number of clients reached" and is disconnected.
	MaxConnections int
	// MaxRequestBytes bounds one request (one bulk string, and the whole
	// multibulk request with its framing). A request over it is a protocol
	// error: the client gets an error reply and is disconnected.
	MaxRequestBytes int
	// MaxValueSize bounds one value (hash field value, string, prop,
	// global); a command with a larger value gets a -TOOLARGE error and the
	// connection stays open. session.DefaultMaxValueSize when 0 (or
	// MaxRequestBytes when that is smaller). It must not exceed
	// MaxRequestBytes.
	MaxValueSize int
	// IdleTimeout closes a client connection that has not completed a
	// command for that long (Redis's client timeout: bytes that never make
	// a whole command do not count, so a client dripping a byte a second
	// is closed too); 0 means never.
	IdleTimeout time.Duration
	// OutputLimit closes a client connection whose pending replies exceed
	// that many bytes (a reply too large to hold for a client, as Redis's
	// client-output-buffer-limit normal hard limit); 0 means no limit. It
	// must be 0 or at least MinOutputLimit (pipelined small replies are
	// written every 64 KiB and never reach it).
	OutputLimit int
	// WriteTimeout closes a client connection that has not taken its
	// replies for that long (a client that pipelines without reading), so
	// that no connection goroutine waits on a client forever; 0 means
	// never.
	WriteTimeout time.Duration
	// DisableProtectedMode turns protected mode off. In protected mode (the
	// default, as Redis's protected-mode yes), a server without Password
	// answers a client from a non-loopback address with a -DENIED error
	// and closes the connection; loopback clients, unix sockets and, on a
	// TLS listener, clients with a verified certificate are served.
	DisableProtectedMode bool
	// Logger receives the server's logs; slog.Default() when nil.
	Logger *slog.Logger
	// Now is the clock used for absolute expiry times (SET ... EXAT/PXAT);
	// time.Now when nil. Tests pass the store's fake clock.
	Now func() time.Time
	// ScriptTimeout bounds one Lua script's run (EVAL); DefaultScriptTimeout
	// when 0. ScriptMaxMemory bounds its heap growth in bytes;
	// DefaultScriptMaxMemory when 0.
	ScriptTimeout   time.Duration
	ScriptMaxMemory int64
	// SlowlogLogSlowerThan records in the slow log (SLOWLOG GET) every
	// command that runs longer: DefaultSlowlogLogSlowerThan when 0, never
	// when negative (1ns records every command). SlowlogMaxLen is how many
	// entries it keeps: DefaultSlowlogMaxLen when 0, none when negative.
	SlowlogLogSlowerThan time.Duration
	SlowlogMaxLen        int
	// Version is the version reported by HELLO and INFO.
	Version string
	// PubsubOutputLimit bounds the output waiting to be sent to one
	// Pub/Sub client (Redis's client-output-buffer-limit pubsub hard
	// limit): a subscriber that reads too slowly is disconnected once it is
	// passed (counted in gridnode_pubsub_slow_disconnects_total).
	// DefaultPubsubOutputLimit when 0.
	PubsubOutputLimit int
	// NotifyKeyspaceEvents are the keyspace notifications published, in
	// Redis's letters (notify-keyspace-events: "KEA", "Ex"); none when
	// empty. CONFIG SET notify-keyspace-events changes them at run time.
	NotifyKeyspaceEvents string
}

// DefaultConfig returns the configuration used for zero fields.
func DefaultConfig() Config {
	return Config{
		Addr:            DefaultAddr,
		MaxConnections:  DefaultMaxConnections,
		MaxRequestBytes: DefaultMaxRequestBytes,
		MaxValueSize:    session.DefaultMaxValueSize,
		Version:         "0.1.0",
	}
}

// Validate reports a configuration that New would refuse.
func (c Config) Validate() error {
	switch {
	case c.MaxConnections < 0:
		return fmt.Errorf("server: MaxConnections must not be negative, got %d", c.MaxConnections)
	case c.MaxRequestBytes < 0:
		return fmt.Errorf("server: MaxRequestBytes must not be negative, got %d", c.MaxRequestBytes)
	case c.MaxRequestBytes > 0 && c.MaxRequestBytes < minRequestBytes:
		return fmt.Errorf("server: MaxRequestBytes must be at least %d, got %d", minRequestBytes, c.MaxRequestBytes)
	case c.MaxValueSize < 0:
		return fmt.Errorf("server: MaxValueSize must not be negative, got %d", c.MaxValueSize)
	case c.IdleTimeout < 0:
		return fmt.Errorf("server: IdleTimeout must not be negative, got %s", c.IdleTimeout)
	case c.WriteTimeout < 0:
		return fmt.Errorf("server: WriteTimeout must not be negative, got %s", c.WriteTimeout)
	case c.OutputLimit < 0 || c.OutputLimit > 0 && c.OutputLimit < MinOutputLimit:
		return fmt.Errorf("server: OutputLimit must be 0 (no limit) or at least %d bytes, got %d", MinOutputLimit, c.OutputLimit)
	case c.PubsubOutputLimit < 0:
		return fmt.Errorf("server: PubsubOutputLimit must not be negative, got %d", c.PubsubOutputLimit)
	}
	if _, err := ParseKeyspaceEvents(c.NotifyKeyspaceEvents); err != nil {
		return fmt.Errorf("server: NotifyKeyspaceEvents %q: %v", c.NotifyKeyspaceEvents, err)
	}
	d := c.withDefaults()
	if d.MaxValueSize > d.MaxRequestBytes {
		return fmt.Errorf("server: MaxValueSize (%d) must not exceed MaxRequestBytes (%d)", d.MaxValueSize, d.MaxRequestBytes)
	}
	return nil
}

// MinOutputLimit is the smallest Config.OutputLimit: twice the size at
// which pipelined replies are written.
const MinOutputLimit = 2 * flushThreshold

// minRequestBytes keeps room for the connection commands and their framing.
const minRequestBytes = 1024

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Addr == "" {
		c.Addr = d.Addr
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = d.MaxConnections
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = d.MaxRequestBytes
	}
	if c.MaxValueSize == 0 {
		c.MaxValueSize = min(d.MaxValueSize, c.MaxRequestBytes)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ScriptTimeout <= 0 {
		c.ScriptTimeout = DefaultScriptTimeout
	}
	if c.ScriptMaxMemory <= 0 {
		c.ScriptMaxMemory = DefaultScriptMaxMemory
	}
	if c.Version == "" {
		c.Version = d.Version
	}
	if c.PubsubOutputLimit == 0 {
		c.PubsubOutputLimit = DefaultPubsubOutputLimit
	}
	if c.SlowlogLogSlowerThan == 0 {
		c.SlowlogLogSlowerThan = DefaultSlowlogLogSlowerThan
	}
	if c.SlowlogMaxLen == 0 {
		c.SlowlogMaxLen = DefaultSlowlogMaxLen
	}
	return c
}
