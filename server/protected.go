package server

import (
	"net"
	"time"
)

// Protected mode, as Redis's protected-mode yes: a server without a
// password answers a client that connects from a non-loopback address with
// errDenied and closes the connection, before reading a command. Loopback
// clients (127.0.0.0/8, ::1), unix sockets and in-process pipes are served.
// On a TLS listener, a client whose certificate chained to the CA is
// served too (tls-auth-clients yes or optional: the certificate is the
// credential). Config.DisableProtectedMode turns it off.

// errDenied is Redis's reply, naming this server's flags.
const errDenied = "-DENIED Running in protected mode because protected mode is enabled and no password is set. " +
	"In this mode connections are only accepted from the loopback interface. " +
	"If you want to connect from other computers, do one of the following: " +
	"1) set a password (--password or --password-file, GRIDNODE_PASSWORD_FILE) and have clients AUTH with it; " +
	"2) on the TLS port, require client certificates (--tls-auth-clients yes); " +
	"3) if only this host needs access, bind --addr to a loopback address; " +
	"4) if you started the server just for testing on a trusted network, restart it with '--protected-mode no' " +
	"(MAKE SURE it is not reachable from the internet if you do so). " +
	"You only need to do one of these for the server to accept connections from the outside.\r\n"

// isLoopback reports whether a client at addr is on this host: a TCP
// address on the loopback interface, a unix socket or an in-process pipe.
func isLoopback(addr net.Addr) bool {
	switch a := addr.(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UDPAddr:
		return a.IP.IsLoopback()
	case *net.IPAddr:
		return a.IP.IsLoopback()
	case nil:
		return false
	}
	return true // unix sockets, pipes
}

// deniedByProtectedMode answers and closes a connection that protected
// mode refuses; it reports whether it did. Called first by serve.
func (c *conn) deniedByProtectedMode() bool {
	cfg := &c.s.cfg
	if cfg.DisableProtectedMode || cfg.Password != "" || isLoopback(c.nc.RemoteAddr()) {
		return false
	}
	if tc, ok := c.nc.(*tlsConn); ok {
		if err := tc.handshake(); err != nil {
			return true // not a TLS client: closed, as any failed handshake
		}
		if len(tc.ConnectionState().VerifiedChains) > 0 {
			return false
		}
	}
	c.s.metrics.closed.WithLabelValues(closedProtectedMode).Inc()
	if n, ok := c.s.securityLog.Allow(time.Now()); ok {
		c.s.log.Warn("protected mode: refused a client from a non-loopback address (no password is set; see --protected-mode)",
			"remote", c.nc.RemoteAddr().String(), "not_logged_since", n)
	}
	c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	if n, err := c.nc.Write([]byte(errDenied)); err == nil {
		c.outBytes.Add(int64(n))
		c.lingerClose()
	}
	return true
}
