package server

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// TLS for clients: NewTLSListener wraps a listener so that Serve speaks
// TLS on it (gridnode serves a TLS port beside the plain one, as Redis
// does with --tls-port).

// DefaultTLSHandshakeTimeout bounds a client's TLS handshake.
const DefaultTLSHandshakeTimeout = 10 * time.Second

// NewTLSListener returns a listener whose connections speak TLS with cfg
// (use cfg.GetConfigForClient to change certificates without a restart).
// The handshake runs in the connection's own goroutine, on its first read,
// and must finish within timeout: a client that connects and sends
// nothing, or plain text, is closed.
func NewTLSListener(l net.Listener, cfg *tls.Config, timeout time.Duration) net.Listener {
	return &tlsListener{Listener: l, cfg: cfg, timeout: timeout}
}

type tlsListener struct {
	net.Listener
	cfg     *tls.Config
	timeout time.Duration
}

// isTLS reports whether the client connected over TLS.
func (c *conn) isTLS() bool {
	_, ok := c.nc.(*tlsConn)
	return ok
}

func (l *tlsListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &tlsConn{Conn: tls.Server(nc, l.cfg), timeout: l.timeout}, nil
}

// tlsConn runs the handshake under its own deadline, then restores the
// deadline the server set.
type tlsConn struct {
	*tls.Conn
	timeout time.Duration
	once    sync.Once
	err     error

	mu       sync.Mutex // guards deadline
	deadline time.Time  // the read deadline the server asked for
}

func (c *tlsConn) handshake() error {
	c.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		defer cancel()
		if c.err = c.Conn.HandshakeContext(ctx); c.err != nil {
			_ = c.Conn.Close()
			return
		}
		c.mu.Lock()
		d := c.deadline
		c.mu.Unlock()
		_ = c.Conn.SetReadDeadline(d)
	})
	return c.err
}

func (c *tlsConn) Read(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *tlsConn) Write(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

func (c *tlsConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}

func (c *tlsConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}
