package server

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os/exec"
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
	return serveOn(t, n, ln, func(l net.Listener) net.Listener { return NewTLSListener(l, cfg, 2*time.Second) })
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
	got, err := sendAndReadAll(t, "tcp", addr, "SET plain text\r\n")
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

// pyTLSClient connects with redis-py over TLS (ssl=True) and prints "ok"
// after a round trip, or "refused: <error>" when the connection fails.
const pyTLSClient = `
import sys, redis
port, ca, cert, key = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
kw = dict(host="127.0.0.1", port=int(port), ssl=True, ssl_ca_certs=ca, ssl_cert_reqs="required",
          socket_timeout=10, decode_responses=True)
if cert:
    kw.update(ssl_certfile=cert, ssl_keyfile=key)
r = redis.Redis(**kw)
try:
    r.hset("py-session", mapping={"stage": "MENU", "lang": "en"})
    got = r.hgetall("py-session")
except (redis.exceptions.ConnectionError, OSError) as e:
    print("refused:", e)
    sys.exit(0)
assert got == {"stage": "MENU", "lang": "en"}, got
print("ok")
`

// redis-py with ssl=True against the TLS port: served with a certificate of
// the CA, refused without one (--tls-auth-clients yes) and when it does not
// trust the server's CA.
func TestTLSRedisPy(t *testing.T) {
	py := requireRedisPy(t, "redis")
	dir := t.TempDir()
	ca, other := testcert.NewCA(t, "clients-ca"), testcert.NewCA(t, "another-ca")
	n := startNode(t, Config{})
	addr := serveTLS(t, n, &tls.Config{
		Certificates: []tls.Certificate{ca.Issue(t, "gridnode").TLS},
		ClientCAs:    ca.Pool(),
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	})
	_, port, _ := net.SplitHostPort(addr)
	caFile, otherCAFile := ca.WriteFile(t, dir, "ca"), other.WriteFile(t, dir, "other")
	cert, key := ca.Issue(t, "bot").WriteFiles(t, dir, "bot")
	for _, tc := range []struct {
		name, ca, cert, key, want string
	}{
		{"client certificate of the CA", caFile, cert, key, "ok"},
		{"no client certificate", caFile, "", "", "refused"},
		{"server CA not trusted", otherCAFile, cert, key, "refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, py, "-c", pyTLSClient, port, tc.ca, tc.cert, tc.key).CombinedOutput()
			if err != nil || !strings.HasPrefix(strings.TrimSpace(string(out)), tc.want) {
				t.Fatalf("redis-py: %v, output %q; want %q", err, out, tc.want)
			}
		})
	}
	if v, err := n.client(t, 2).HGet(context.Background(), "py-session", "stage").Result(); err != nil || v != "MENU" {
		t.Fatalf("the session redis-py wrote over TLS: %q, %v", v, err)
	}
}
