package transport

import (
	"context"
	"fmt"
	"net"
	"time"
)

// Authenticator runs the members' handshake (see handshake.go) on
// connections of other member channels, so that every member port proves
// the same cluster secret the same way. Get it from Transport.Authenticator.
// It is safe for concurrent use.
type Authenticator struct {
	secret  []byte
	timeout time.Duration
}

// Authenticator returns the handshake of this transport (its secret and
// handshake timeout) for other member channels, such as Raft.
func (t *Transport) Authenticator() *Authenticator {
	return &Authenticator{secret: t.cfg.Secret, timeout: t.cfg.HandshakeTimeout}
}

// Secured reports whether the handshake proves a secret (false: anyone may
// complete it).
func (a *Authenticator) Secured() bool { return len(a.secret) > 0 }

// Timeout is the bound on one handshake.
func (a *Authenticator) Timeout() time.Duration { return a.timeout }

// Client runs the dialer's side of the handshake for channel ch on nc,
// within the handshake timeout and ctx's deadline. It returns the
// connection to use afterwards; on error the caller closes nc.
func (a *Authenticator) Client(ctx context.Context, nc net.Conn, ch Channel) (net.Conn, error) {
	deadline := time.Now().Add(a.timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = nc.SetDeadline(deadline)
	if err := clientHandshake(nc, a.secret, ch); err != nil {
		return nil, fmt.Errorf("%s handshake with %s: %w", ch, nc.RemoteAddr(), err)
	}
	_ = nc.SetDeadline(time.Time{})
	return nc, nil
}

// Server runs the listener's side of the handshake for channel ch on nc,
// within the handshake timeout. A peer that does not complete it in time,
// speaks another protocol or does not prove the secret gets an error; the
// caller closes nc. Nothing the peer sent is passed on.
func (a *Authenticator) Server(nc net.Conn, ch Channel) (net.Conn, error) {
	_ = nc.SetDeadline(time.Now().Add(a.timeout))
	if err := serverHandshake(nc, a.secret, ch, ""); err != nil {
		return nil, fmt.Errorf("%s handshake from %s: %w", ch, nc.RemoteAddr(), err)
	}
	_ = nc.SetDeadline(time.Time{})
	return nc, nil
}
