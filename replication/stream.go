package replication

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/sessiongrid/sessiongrid/cluster"
)

// streamLayer is Raft's TCP stream layer with the Blocked test hook. It
// tracks every connection it made or accepted and closes them all on Close:
// raft's NetworkTransport closes only the listener, which would leave its
// pooled connections (and the peers' goroutines reading them) open.
type streamLayer struct {
	net.Listener
	advertise net.Addr
	blocked   func(addr string) bool

	mu     sync.Mutex // guards conns and closed
	conns  map[net.Conn]struct{}
	closed bool
}

// track registers c, or closes it when the layer is closed.
func (s *streamLayer) track(c net.Conn) (net.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	if s.conns == nil {
		s.conns = make(map[net.Conn]struct{})
	}
	tc := &trackedConn{Conn: c, s: s}
	s.conns[tc] = struct{}{}
	return tc, nil
}

// Accept implements net.Listener.
func (s *streamLayer) Accept() (net.Conn, error) {
	c, err := s.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return s.track(c)
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
	return s.track(c)
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
