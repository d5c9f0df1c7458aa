package replication

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/internal/loglimit"
	"github.com/sessiongrid/sessiongrid/internal/shutdown"
	"github.com/sessiongrid/sessiongrid/transport"
)

// streamLayer is Raft's TCP stream layer: every connection, dialed or
// accepted, runs the members' handshake (the internal transport's, on the
// Raft channel) before Raft reads or writes a byte of it, so a peer without
// the cluster secret cannot deliver an RPC. Accepted connections run the
// handshake in Raft's per-connection goroutine (on the first Read), so a
// slow peer never holds up the accept loop; one that does not finish within
// the handshake timeout is closed.
//
// It also carries the Blocked test hook, and tracks every connection it
// made or accepted and closes them all on Close: raft's NetworkTransport
// closes only the listener, which would leave its pooled connections (and
// the peers' goroutines reading them) open.
type streamLayer struct {
	net.Listener
	advertise net.Addr
	blocked   func(addr string) bool
	auth      *transport.Authenticator
	log       *slog.Logger
	refusals  *loglimit.Limiter

	mu     sync.Mutex // guards conns and closed
	conns  map[net.Conn]struct{}
	closed bool

	// handlers counts the accepted connections whose Raft handler has not
	// closed them yet: raft's NetworkTransport does not wait for its
	// handlers, and a heartbeat handled after the log store closed makes
	// raft panic ("failed to save current term: database not open").
	handlers sync.WaitGroup
}

// track registers c, or closes it when the layer is closed; accepted
// connections are counted in handlers until their handler closes them.
func (s *streamLayer) track(c net.Conn, accepted bool) (net.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	if accepted {
		s.handlers.Add(1) // under mu, before closed: never concurrent with wait
	}
	if s.conns == nil {
		s.conns = make(map[net.Conn]struct{})
	}
	tc := &trackedConn{Conn: c, s: s}
	s.conns[tc] = struct{}{}
	return tc, nil
}

// Accept implements net.Listener. The connection it returns runs the
// listener's handshake on its first Read or Write.
func (s *streamLayer) Accept() (net.Conn, error) {
	c, err := s.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc, err := s.track(c, true)
	if err != nil {
		return nil, err
	}
	return &authConn{Conn: tc, s: s}, nil
}

// wait waits until the handler of every accepted connection has closed
// it (Close closes their sockets, so they end promptly), or ctx ends.
func (s *streamLayer) wait(ctx context.Context) error {
	return shutdown.Wait(ctx, &s.handlers)
}

// authConn is an accepted Raft connection that passes no byte either way
// until the peer has completed the handshake.
type authConn struct {
	net.Conn
	s      *streamLayer
	once   sync.Once
	err    error
	closed sync.Once
}

// Close is called by the connection's Raft handler as it ends.
func (c *authConn) Close() error {
	c.closed.Do(c.s.handlers.Done)
	return c.Conn.Close()
}

func (c *authConn) handshake() error {
	c.once.Do(func() {
		if _, err := c.s.auth.Server(c.Conn, transport.ChannelRaft); err != nil {
			_ = c.Conn.Close()
			if n, ok := c.s.refusals.Allow(time.Now()); ok {
				c.s.log.Warn("globals: refused a Raft connection", "remote", c.Conn.RemoteAddr().String(),
					"err", err, "refusals_not_logged", n)
			}
			// io.EOF: Raft ends the connection without logging it again.
			c.err = io.EOF
		}
	})
	return c.err
}

func (c *authConn) Read(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *authConn) Write(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// Close closes the listener and every connection.
func (s *streamLayer) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	err := s.Listener.Close()
	for c := range conns {
		_ = c.Close()
	}
	return err
}

// trackedConn forgets itself when closed.
type trackedConn struct {
	net.Conn
	s *streamLayer
}

func (c *trackedConn) Close() error {
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.mu.Unlock()
	return c.Conn.Close()
}

var errCut = errors.New("replication: network cut (test hook)")

// Addr implements net.Listener: the address peers dial.
func (s *streamLayer) Addr() net.Addr { return s.advertise }

// Dial implements raft.StreamLayer.
func (s *streamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	addr := string(address)
	if s.blocked != nil && s.blocked(addr) {
		return nil, fmt.Errorf("dial %s: %w", addr, errCut)
	}
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	if s.blocked != nil {
		c = &gatedConn{Conn: c, peer: addr, blocked: s.blocked}
	}
	tc, err := s.track(c, false)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := s.auth.Client(ctx, tc, transport.ChannelRaft); err != nil {
		_ = tc.Close()
		return nil, err
	}
	return tc, nil
}

// gatedConn breaks when the network to its peer is cut.
type gatedConn struct {
	net.Conn
	peer    string
	blocked func(addr string) bool
}

func (c *gatedConn) Read(b []byte) (int, error) {
	if c.blocked(c.peer) {
		_ = c.Conn.Close()
		return 0, errCut
	}
	return c.Conn.Read(b)
}

func (c *gatedConn) Write(b []byte) (int, error) {
	if c.blocked(c.peer) {
		_ = c.Conn.Close()
		return 0, errCut
	}
	return c.Conn.Write(b)
}

// addressProvider resolves a Raft server id (a member name) to the Raft
// address the member advertises now, so that a server restarted on a new
// address (a container with a new IP) is still reachable.
type addressProvider struct {
	node *cluster.Node
}

// ServerAddr implements raft.ServerAddressProvider.
func (p addressProvider) ServerAddr(id raft.ServerID) (raft.ServerAddress, error) {
	m, ok := p.node.Member(string(id))
	if !ok || m.Addrs.Raft == "" {
		return "", fmt.Errorf("no member %q with a Raft address", id)
	}
	return raft.ServerAddress(m.Addrs.Raft), nil
}
