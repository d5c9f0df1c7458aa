package client

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// RemoteConfig configures a Remote. Zero fields take the values of
// DefaultRemoteConfig, except the address, which must be given.
type RemoteConfig struct {
	// Addr is the host:port of a gridnode.
	Addr string
	// Addrs lists more gridnodes (seeds). Connections are spread over Addr
	// and Addrs round-robin; a node that refuses a connection is skipped for
	// that dial, so the client keeps working while one seed is down. Any node
	// serves any session (it forwards to the owner).
	Addrs []string

	// Username and Password authenticate every connection (HELLO ... AUTH,
	// or AUTH). Username may be empty ("default").
	Username string
	Password string
	// ClientName is sent with CLIENT SETNAME on every connection when set.
	ClientName string
	// TLSConfig enables TLS when non-nil.
	TLSConfig *tls.Config
	// Protocol is the RESP version negotiated with HELLO: 2 or 3 (default
	// 2). Both work; gridnode sends no push messages, and with RESP3
	// go-redis peeks each connection for them, which costs client CPU.
	Protocol int

	// PoolSize is the number of pooled connections, over all addresses
	// (default 10 per GOMAXPROCS). Each in-flight call holds one.
	PoolSize int
	// MinIdleConns keeps that many connections open while idle.
	MinIdleConns int
	// PoolTimeout bounds the wait for a free connection when all are busy
	// (default ReadTimeout + 1 s).
	PoolTimeout time.Duration

	// DialTimeout bounds establishing one connection (default 5 s).
	DialTimeout time.Duration
	// ReadTimeout bounds waiting for a reply (default 3 s); WriteTimeout
	// bounds sending a request (default 3 s). A ctx deadline that comes
	// earlier wins. Negative values disable the timeout.
	ReadTimeout  time.Duration
	WriteTimeout time.Duration

	// MaxRetries is how many times a failed call is retried (default 3;
	// -1 disables retries). Reads are retried on any transport error;
	// writes only when the request provably never left the client (see the
	// package documentation).
	MaxRetries int
	// MinRetryBackoff and MaxRetryBackoff bound the jittered exponential
	// backoff between retries (defaults 8 ms and 512 ms).
	MinRetryBackoff time.Duration
	MaxRetryBackoff time.Duration

	// MaxValueSize bounds one value, checked before sending
	// (session.DefaultMaxValueSize when 0). The server enforces its own limit
	// too.
	MaxValueSize int

	// Logger receives the client's logs (retries, close); slog.Default()
	// when nil.
	Logger *slog.Logger
}

// DefaultRemoteConfig returns the defaults used for zero fields of a
// RemoteConfig, with Addr set to a gridnode on the local machine.
func DefaultRemoteConfig() RemoteConfig {
	return RemoteConfig{
		Addr:            "127.0.0.1:6379",
		Protocol:        2,
		DialTimeout:     5 * time.Second,
		ReadTimeout:     3 * time.Second,
		WriteTimeout:    3 * time.Second,
		MaxRetries:      3,
		MinRetryBackoff: 8 * time.Millisecond,
		MaxRetryBackoff: 512 * time.Millisecond,
		MaxValueSize:    session.DefaultMaxValueSize,
	}
}

// Validate reports a configuration that NewRemote would refuse.
func (c RemoteConfig) Validate() error {
	addrs := c.addrs()
	if len(addrs) == 0 {
		return errors.New("client: no gridnode address: set RemoteConfig.Addr or Addrs")
	}
	for _, a := range addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("client: address %q: want host:port: %w", a, err)
		}
	}
	switch {
	case c.Protocol != 0 && c.Protocol != 2 && c.Protocol != 3:
		return fmt.Errorf("client: Protocol must be 2 or 3, got %d", c.Protocol)
	case c.PoolSize < 0:
		return fmt.Errorf("client: PoolSize must not be negative, got %d", c.PoolSize)
	case c.MinIdleConns < 0:
		return fmt.Errorf("client: MinIdleConns must not be negative, got %d", c.MinIdleConns)
	case c.PoolTimeout < 0:
		return fmt.Errorf("client: PoolTimeout must not be negative, got %v", c.PoolTimeout)
	case c.DialTimeout < 0:
		return fmt.Errorf("client: DialTimeout must not be negative, got %v", c.DialTimeout)
	case c.MaxRetries < -1:
		return fmt.Errorf("client: MaxRetries must be -1 (none) or more, got %d", c.MaxRetries)
	case c.MinRetryBackoff < 0 || c.MaxRetryBackoff < 0:
		return fmt.Errorf("client: retry backoffs must not be negative, got %v and %v", c.MinRetryBackoff, c.MaxRetryBackoff)
	case c.MaxValueSize < 0:
		return fmt.Errorf("client: MaxValueSize must not be negative, got %d", c.MaxValueSize)
	}
	return nil
}

// addrs returns Addr followed by Addrs, without empty entries or repeats.
func (c RemoteConfig) addrs() []string {
	seen := make(map[string]bool)
	var out []string
	for _, a := range append([]string{c.Addr}, c.Addrs...) {
		if a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// withDefaults fills zero fields from DefaultRemoteConfig.
func (c RemoteConfig) withDefaults() RemoteConfig {
	d := DefaultRemoteConfig()
	c.Protocol = cmp.Or(c.Protocol, d.Protocol)
	c.DialTimeout = cmp.Or(c.DialTimeout, d.DialTimeout)
	switch {
	case c.ReadTimeout == 0:
		c.ReadTimeout = d.ReadTimeout
	case c.ReadTimeout < 0:
		c.ReadTimeout = -1 // go-redis: no deadline
	}
	switch {
	case c.WriteTimeout == 0:
		c.WriteTimeout = d.WriteTimeout
	case c.WriteTimeout < 0:
		c.WriteTimeout = -1
	}
	switch c.MaxRetries {
	case 0:
		c.MaxRetries = d.MaxRetries
	case -1:
		c.MaxRetries = 0
	}
	c.MinRetryBackoff = cmp.Or(c.MinRetryBackoff, d.MinRetryBackoff)
	c.MaxRetryBackoff = cmp.Or(c.MaxRetryBackoff, d.MaxRetryBackoff)
	if c.MaxRetryBackoff < c.MinRetryBackoff {
		c.MaxRetryBackoff = c.MinRetryBackoff
	}
	c.MaxValueSize = cmp.Or(c.MaxValueSize, d.MaxValueSize)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	c.Addrs = c.addrs()
	c.Addr = c.Addrs[0]
	return c
}
