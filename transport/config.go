package transport

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// Config configures a Transport. It is copied by New and never changed
// afterwards.
type Config struct {
	// BindAddr is the TCP address to listen on ("127.0.0.1:0" picks a
	// port). Ignored when Listener is set.
	BindAddr string
	// Listener, when set, is used instead of listening on BindAddr (tests
	// pass a listener on 127.0.0.1:0). The Transport closes it.
	Listener net.Listener
	// Advertise is the address peers should dial to reach this transport
	// (containers: an address peers can reach). Default: the listener's
	// address.
	Advertise string
	// Secret, when non-empty, is the cluster's shared secret: both ends of
	// every connection prove they hold it (HMAC challenge–response). Both
	// ends must hold the same secret, or both none.
	Secret []byte
	// TLS, when set, runs every member connection (this transport's and
	// Raft's) over TLS with it before the handshake above; NewMemberTLS
	// makes one for a cluster CA. Both ends must use TLS, or neither.
	TLS *tls.Config
	// MaxFrameSize bounds one frame, header included, in both directions.
	MaxFrameSize int
	// CallTimeout is the deadline of a Call whose context has none.
	CallTimeout time.Duration
	// DialTimeout bounds connecting to a peer; HandshakeTimeout bounds the
	// handshake after it.
	DialTimeout      time.Duration
	HandshakeTimeout time.Duration
	// WriteTimeout bounds one write of a batch to the socket; a peer that
	// does not read for that long is disconnected.
	WriteTimeout time.Duration
	// MaxQueueBytes bounds the bytes queued for one connection's writer; a
	// Call beyond it fails at once with session.ErrUnavailable.
	MaxQueueBytes int
	// MaxHandlers bounds the requests of one connection handled at once; the
	// connection stops reading while the bound is reached (backpressure).
	MaxHandlers int
	// Logger receives the transport's logs (default slog.Default()).
	Logger *slog.Logger
	// Blocked is a test hook that simulates a network cut: while it returns
	// true for a peer address, calls to that address fail and established
	// connections to it are closed. Cuts are simulated on the dialing side,
	// so a symmetric cut needs the hook on both nodes. Nil in production.
	Blocked func(addr string) bool
}

// DefaultConfig returns the configuration for a LAN: 16 MiB frames, 5 s
// calls.
func DefaultConfig() Config {
	return Config{
		BindAddr:         "0.0.0.0:7947",
		MaxFrameSize:     16 << 20,
		CallTimeout:      5 * time.Second,
		DialTimeout:      2 * time.Second,
		HandshakeTimeout: 2 * time.Second,
		WriteTimeout:     10 * time.Second,
		MaxQueueBytes:    64 << 20,
		MaxHandlers:      1024,
	}
}

// DefaultLocalConfig returns DefaultConfig listening on 127.0.0.1 with a
// kernel-chosen port and short timeouts, for tests.
func DefaultLocalConfig() Config {
	c := DefaultConfig()
	c.BindAddr = "127.0.0.1:0"
	c.CallTimeout = 2 * time.Second
	c.DialTimeout = time.Second
	c.HandshakeTimeout = time.Second
	c.WriteTimeout = 2 * time.Second
	return c
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	var errs []error
	if c.Listener == nil && c.BindAddr == "" {
		errs = append(errs, errors.New("BindAddr or Listener is required"))
	}
	if c.MaxFrameSize < HeaderSize+64 {
		errs = append(errs, fmt.Errorf("MaxFrameSize %d is too small", c.MaxFrameSize))
	}
	if c.MaxQueueBytes < c.MaxFrameSize {
		errs = append(errs, fmt.Errorf("MaxQueueBytes %d is below MaxFrameSize %d", c.MaxQueueBytes, c.MaxFrameSize))
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{
		{"CallTimeout", c.CallTimeout}, {"DialTimeout", c.DialTimeout},
		{"HandshakeTimeout", c.HandshakeTimeout}, {"WriteTimeout", c.WriteTimeout},
	} {
		if d.d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive", d.name))
		}
	}
	if c.MaxHandlers <= 0 {
		errs = append(errs, errors.New("MaxHandlers must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("transport: invalid config: %w", err)
	}
	return nil
}
