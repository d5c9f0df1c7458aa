package cluster

import (
	"errors"
	"fmt"
	"log"
	"net"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

// gatedTransport wraps memberlist's NetTransport with the Config.Blocked test
// hook: packets and streams to a blocked address are dropped by the sender.
type gatedTransport struct {
	*memberlist.NetTransport
	blocked func(addr string) bool
}

// newGossipTransport binds memberlist's UDP+TCP transport, retrying a few
// times when the port is chosen by the kernel (the UDP and TCP ports must
// match, which races with other processes).
func newGossipTransport(c Config, logger *log.Logger) (memberlist.NodeAwareTransport, int, error) {
	nc := &memberlist.NetTransportConfig{BindAddrs: []string{c.BindAddr}, BindPort: c.BindPort, Logger: logger}
	attempts := 1
	if c.BindPort == 0 {
		attempts = 10
	}
	var err error
	for range attempts {
		var nt *memberlist.NetTransport
		if nt, err = memberlist.NewNetTransport(nc); err == nil {
			port := nt.GetAutoBindPort()
			if c.Blocked == nil {
				return nt, port, nil
			}
			return &gatedTransport{NetTransport: nt, blocked: c.Blocked}, port, nil
		}
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	return nil, 0, fmt.Errorf("cluster: bind gossip on %s:%d: %w", c.BindAddr, c.BindPort, err)
}

var errCut = errors.New("cluster: network cut (test hook)")

// WriteTo implements memberlist.Transport.
func (g *gatedTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	if g.blocked(addr) {
		return time.Now(), nil // lost on the wire
	}
	return g.NetTransport.WriteTo(b, addr)
}

// WriteToAddress implements memberlist.NodeAwareTransport.
func (g *gatedTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	return g.WriteTo(b, a.Addr)
}

// DialTimeout implements memberlist.Transport.
func (g *gatedTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	if g.blocked(addr) {
		return nil, fmt.Errorf("dial %s: %w", addr, errCut)
	}
	return g.NetTransport.DialTimeout(addr, timeout)
}

// DialAddressTimeout implements memberlist.NodeAwareTransport.
func (g *gatedTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	return g.DialTimeout(a.Addr, timeout)
}
