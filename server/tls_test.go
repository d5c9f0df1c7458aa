package server

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/internal/testcert"
)

// serveTLS serves n's server on a TLS listener too, until the test ends,
// and returns its address.
func serveTLS(t *testing.T, n *testNode, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl := NewTLSListener(ln, cfg, 2*time.Second)
	done := make(chan error, 1)
	go func() { done <- n.srv.Serve(tl) }()
	t.Cleanup(func() {
		tl.Close()
		<-done
	})
	return ln.Addr().String()
}

func TestTLSClients(t *testing.T) {
	ca, other := testcert.NewCA(t, "clients-ca"), testcert.NewCA(t, "another-ca")
	srvCert := ca.Issue(t, "gridnode")
	n := startNode(t, Config{})
	addr := serveTLS(t, n, &tls.Config{
		Certificates: []tls.Certificate{srvCert.TLS},
		ClientCAs:    ca.Pool(),
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	})
	ctx := context.Background()
	client := func(cert testcert.Pair) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 5 * time.Second,
			TLSConfig: &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{cert.TLS}, ServerName: "localhost"}})
		t.Cleanup(func() { c.Close() })
		return c
	}
	good := client(ca.Issue(t, "bot"))
	if err := good.HSet(ctx, "s", "f", "v").Err(); err != nil {
		t.Fatalf("trusted client: %v", err)
	}
	if v, err := good.HGet(ctx, "s", "f").Result(); err != nil || v != "v" {
		t.Fatalf("HGET over TLS = %q, %v", v, err)
	}
	if err := client(other.Issue(t, "intruder")).Ping(ctx).Err(); err == nil {
		t.Fatal("a client certificate of another CA was accepted")
	}
	// Plain text on the TLS port: no command runs, the connection closes.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("SET plain text\r\n")); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("plain text on the TLS port: %v", err)
	}
	if strings.Contains(string(got), "OK") {
		t.Fatalf("plain text on the TLS port was served: %q", got)
	}
	if v, err := good.Exists(ctx, "plain").Result(); err != nil || v != 0 {
		t.Fatalf("EXISTS plain = %d, %v", v, err)
	}
}

// A client that connects to the TLS port and sends nothing is closed after
// the handshake timeout.
func TestTLSHandshakeTimeout(t *testing.T) {
	ca := testcert.NewCA(t, "ca")
	n := startNode(t, Config{})
	addr := serveTLS(t, n, &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, "gridnode").TLS}})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Fatalf("silent client not closed by the server: %v", err)
	}
}
