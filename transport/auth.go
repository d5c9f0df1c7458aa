package transport

import (
	"context"
	"crypto/tls"
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
	tls     *tls.Config // nil: no TLS
	timeout time.Duration
}

// Authenticator returns the handshake of this transport (its secret, TLS
// configuration and handshake timeout) for other member channels, such as
// Raft.
func (t *Transport) Authenticator() *Authenticator {
	return &Authenticator{secret: t.cfg.Secret, tls: t.cfg.TLS, timeout: t.cfg.HandshakeTimeout}
}

// Secured reports whether the handshake authenticates the peer (a secret
// or mutual TLS; false: anyone may complete it).
func (a *Authenticator) Secured() bool { return len(a.secret) > 0 || a.tls != nil }

// client runs TLS (when configured) and the dialer's handshake on nc, whose
// deadline the caller set; it returns the connection to use.
func (a *Authenticator) client(ctx context.Context, nc net.Conn, ch Channel) (net.Conn, error) {
	if a.tls != nil {
		tc := tls.Client(nc, a.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("%w: TLS: %v", ErrAuth, err)
		}
		nc = tc
	}
	if err := clientHandshake(nc, a.secret, ch); err != nil {
		return nil, err
	}
	return nc, nil
}

// server runs TLS (when configured) and the listener's handshake on nc,
// whose deadline the caller set; it returns the connection to use.
func (a *Authenticator) server(ctx context.Context, nc net.Conn, ch Channel, wrongPort string) (net.Conn, error) {
	if a.tls != nil {
		tc := tls.Server(nc, a.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("%w: TLS: %v", ErrAuth, err)
		}
		nc = tc
	}
	if err := serverHandshake(nc, a.secret, ch, wrongPort); err != nil {
		return nil, err
	}
	return nc, nil
}

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
	c, err := a.client(ctx, nc, ch)
	if err != nil {
		return nil, fmt.Errorf("%s handshake with %s: %w", ch, nc.RemoteAddr(), err)
	}
	_ = nc.SetDeadline(time.Time{})
	return c, nil
}

// Server runs the listener's side of the handshake for channel ch on nc,
// within the handshake timeout. A peer that does not complete it in time,
// speaks another protocol (answered at once with a RESP error naming the
// port, as the internal transport does) or does not prove the secret gets
// an error; the caller closes nc. Nothing the peer sent is passed on.
func (a *Authenticator) Server(nc net.Conn, ch Channel) (net.Conn, error) {
	_ = nc.SetDeadline(time.Now().Add(a.timeout))
	c, err := a.server(context.Background(), nc, ch, wrongPortReply(ch))
	if err != nil {
		return nil, fmt.Errorf("%s handshake from %s: %w", ch, nc.RemoteAddr(), err)
	}
	_ = nc.SetDeadline(time.Time{})
	return c, nil
}
