package transport

import (
	"context"
	"errors"
	"testing"

	"github.com/sessiongrid/sessiongrid/internal/testcert"
)

// Members with certificates of the cluster CA talk over mutual TLS; a peer
// with a certificate of another CA, or without TLS, is refused both ways.
func TestMemberTLS(t *testing.T) {
	ca, other := testcert.NewCA(t, "cluster"), testcert.NewCA(t, "other")
	member := func(ca *testcert.CA, name string) func(*Config) {
		return func(c *Config) {
			c.TLS = NewMemberTLS(ca.Issue(t, name).TLS, ca.Pool())
			c.Secret = []byte("s3cret")
		}
	}
	srv, srvLog := newTransport(t, member(ca, "m1"))
	srv.Handle(1, echo)
	good, _ := newTransport(t, member(ca, "m2"))
	if _, err := good.Call(context.Background(), srv.Addr(), 1, []byte("x")); err != nil {
		t.Fatalf("member of the cluster CA: %v", err)
	}
	if !good.Authenticator().Secured() {
		t.Fatal("TLS not reported as securing the handshake")
	}
	intruder, _ := newTransport(t, member(other, "intruder"))
	if _, err := intruder.Call(context.Background(), srv.Addr(), 1, nil); !errors.Is(err, ErrAuth) {
		t.Fatalf("certificate of another CA: err = %v, want ErrAuth", err)
	}
	plain, _ := newTransport(t, func(c *Config) { c.Secret = []byte("s3cret") })
	if _, err := plain.Call(context.Background(), srv.Addr(), 1, nil); err == nil {
		t.Fatal("a plain-text peer was served")
	}
	// A member dialing a listener of another CA refuses it too.
	fake, _ := newTransport(t, member(other, "fake"))
	fake.Handle(1, echo)
	if _, err := good.Call(context.Background(), fake.Addr(), 1, nil); !errors.Is(err, ErrAuth) {
		t.Fatalf("listener of another CA: err = %v, want ErrAuth", err)
	}
	waitFor(t, "the refusal in the log", func() bool { return srvLog.contains("TLS") })
}
