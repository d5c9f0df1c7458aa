package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/testcert"
	"github.com/sessiongrid/sessiongrid/internal/testpoll"
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
	testpoll.Until(t, 10*time.Second, "the refusal in the log", func() bool { return srvLog.contains("TLS") })
}

// Credentials replaced while the member runs: handshakes from then on use
// the new certificate and CA, and a connection made before keeps working
// (the old client still reaches the listener although the listener's new CA
// would refuse it on a new connection).
func TestMemberCredentialsReload(t *testing.T) {
	ca1, ca2 := testcert.NewCA(t, "cluster"), testcert.NewCA(t, "cluster-next")
	srvCreds := NewMemberCredentials(ca1.Issue(t, "m1").TLS, ca1.Pool())
	srv, _ := newTransport(t, func(c *Config) { c.TLS = srvCreds.Config() })
	srv.Handle(1, echo)
	old, _ := newTransport(t, func(c *Config) { c.TLS = NewMemberTLS(ca1.Issue(t, "m2").TLS, ca1.Pool()) })
	ctx := context.Background()
	if _, err := old.Call(ctx, srv.Addr(), 1, []byte("x")); err != nil {
		t.Fatalf("before the reload: %v", err)
	}

	rotated := ca2.Issue(t, "m1")
	srvCreds.Set(rotated.TLS, ca2.Pool())

	if got, err := old.Call(ctx, srv.Addr(), 1, []byte("y")); err != nil || string(got) != "echo:y" {
		t.Fatalf("the connection made before the reload: %q, %v", got, err)
	}
	stale, _ := newTransport(t, func(c *Config) { c.TLS = NewMemberTLS(ca1.Issue(t, "m3").TLS, ca1.Pool()) })
	if _, err := stale.Call(ctx, srv.Addr(), 1, nil); !errors.Is(err, ErrAuth) {
		t.Fatalf("a new connection with the old CA: err = %v, want ErrAuth", err)
	}
	fresh, _ := newTransport(t, func(c *Config) { c.TLS = NewMemberTLS(ca2.Issue(t, "m4").TLS, ca2.Pool()) })
	if _, err := fresh.Call(ctx, srv.Addr(), 1, nil); err != nil {
		t.Fatalf("a new connection with the new CA: %v", err)
	}
	// The certificate a new connection sees is the rotated one.
	tc, err := tls.Dial("tcp", srv.Addr(), NewMemberTLS(ca2.Issue(t, "probe").TLS, ca2.Pool()))
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if peer := tc.ConnectionState().PeerCertificates; len(peer) == 0 || !bytes.Equal(peer[0].Raw, rotated.TLS.Certificate[0]) {
		t.Fatal("a new connection was not served the rotated certificate")
	}
}
