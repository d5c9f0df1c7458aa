package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/sessiongrid/sessiongrid/internal/testcert"
)

// nonLoopbackIP returns an address of this machine that is not loopback
// (the container's or host's), or skips the test when it has none.
func nonLoopbackIP(t *testing.T) net.IP {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skipf("no interface addresses: %v", err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
			return ipn.IP
		}
	}
	t.Skip("this machine has no non-loopback IPv4 address")
	return nil
}

// serveOn serves n's server on l (wrapped by wrap when not nil) until the
// test ends, and returns l's address.
func serveOn(t *testing.T, n *testNode, l net.Listener, wrap func(net.Listener) net.Listener) string {
	t.Helper()
	sl := l
	if wrap != nil {
		sl = wrap(l)
	}
	done := make(chan error, 1)
	go func() { done <- n.srv.Serve(sl) }()
	t.Cleanup(func() {
		sl.Close()
		<-done
	})
	return l.Addr().String()
}

// listenRemote listens on a non-loopback address of this machine. A client
// that dials it from this machine connects from that address, so the
// server sees a non-loopback client.
func listenRemote(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(nonLoopbackIP(t).String(), "0"))
	if err != nil {
		t.Skipf("cannot listen on the non-loopback address: %v", err)
	}
	return l
}

// rawExchange sends req on a new connection to addr and returns all the
// server wrote before closing (the test fails if it does not close; a reset
// is a close).
func rawExchange(t *testing.T, addr, req string) string {
	t.Helper()
	got, err := sendAndReadAll(t, "tcp", addr, req)
	if err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("read until the server closes: %v (got %q)", err, got)
	}
	return string(got)
}

func TestProtectedModeDeniesNonLoopbackClients(t *testing.T) {
	n := startNode(t, Config{})
	remote := serveOn(t, n, listenRemote(t), nil)

	got := rawExchange(t, remote, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
	if !strings.HasPrefix(got, "-DENIED ") || !strings.HasSuffix(got, "\r\n") || strings.Count(got, "\r\n") != 1 {
		t.Fatalf("reply to a non-loopback client = %q, want one -DENIED line", got)
	}
	for _, hint := range []string{"--password", "--protected-mode no", "loopback"} {
		if !strings.Contains(got, hint) {
			t.Errorf("the DENIED error does not mention %q: %q", hint, got)
		}
	}
	// redis-cli, run from this machine against the non-loopback address,
	// prints the error (redis-cli exits 0 after an error reply).
	cli := requireTool(t, "redis-cli")
	host, port, _ := net.SplitHostPort(remote)
	if out := runTool(t, "", cli, "-h", host, "-p", port, "SET", "k", "v"); !strings.HasPrefix(out, "DENIED Running in protected mode") {
		t.Fatalf("redis-cli SET from a non-loopback address printed %q, want the DENIED error", out)
	}
	// Nothing ran; loopback clients are served.
	local := n.client(t, 2)
	if v, err := local.Exists(context.Background(), "k").Result(); err != nil || v != 0 {
		t.Fatalf("EXISTS k over loopback = %d, %v; want 0 (the denied SET must not run)", v, err)
	}
	if v := closedCount(t, n, closedProtectedMode); v < 2 {
		t.Fatalf("gridnode_clients_closed_total{reason=protected_mode} = %v, want >= 2", v)
	}
}

func TestProtectedModeWithPasswordOrOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		req  string
		want string
	}{
		{"password set: NOAUTH, not DENIED", Config{Password: "pw"}, "PING\r\nQUIT\r\n", "-NOAUTH"},
		{"password set: AUTH works", Config{Password: "pw"}, "AUTH pw\r\nPING\r\nQUIT\r\n", "+OK\r\n+PONG\r\n+OK\r\n"},
		{"protected mode off", Config{DisableProtectedMode: true}, "PING\r\nQUIT\r\n", "+PONG\r\n+OK\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, tc.cfg)
			remote := serveOn(t, n, listenRemote(t), nil)
			got := rawExchange(t, remote, tc.req)
			if !strings.HasPrefix(got, tc.want) {
				t.Fatalf("reply = %q, want prefix %q", got, tc.want)
			}
		})
	}
}

// On a TLS listener, a verified client certificate is a credential: the
// client is served from anywhere; a client without one is denied.
func TestProtectedModeTLSClientCertificates(t *testing.T) {
	ca := testcert.NewCA(t, "clients-ca")
	srvCert := ca.Issue(t, "gridnode")
	for _, tc := range []struct {
		name       string
		clientAuth tls.ClientAuthType
		clientCert bool
		want       string
	}{
		{"certificate required and given", tls.RequireAndVerifyClientCert, true, "+PONG"},
		{"certificate optional and given", tls.VerifyClientCertIfGiven, true, "+PONG"},
		{"certificate optional, none given", tls.VerifyClientCertIfGiven, false, "-DENIED"},
		{"no client certificates", tls.NoClientCert, false, "-DENIED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, Config{})
			srvTLS := &tls.Config{Certificates: []tls.Certificate{srvCert.TLS}, ClientCAs: ca.Pool(),
				ClientAuth: tc.clientAuth, MinVersion: tls.VersionTLS12}
			remote := serveOn(t, n, listenRemote(t), func(l net.Listener) net.Listener {
				return NewTLSListener(l, srvTLS, 5*time.Second)
			})
			cliTLS := &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"}
			if tc.clientCert {
				cliTLS.Certificates = []tls.Certificate{ca.Issue(t, "bot").TLS}
			}
			c, err := tls.Dial("tcp", remote, cliTLS)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write([]byte("PING\r\n")); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil || !strings.HasPrefix(line, tc.want) {
				t.Fatalf("reply = %q, %v; want prefix %q", line, err, tc.want)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want bool
	}{
		{&net.TCPAddr{IP: net.ParseIP("127.0.0.1")}, true},
		{&net.TCPAddr{IP: net.ParseIP("127.8.9.10")}, true},
		{&net.TCPAddr{IP: net.ParseIP("::1")}, true},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:127.0.0.1")}, true},
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.2")}, false},
		{&net.TCPAddr{IP: net.ParseIP("10.0.0.1")}, false},
		{&net.TCPAddr{IP: net.ParseIP("fd00::2")}, false},
		{&net.TCPAddr{IP: net.ParseIP("0.0.0.0")}, false},
		{&net.UnixAddr{Name: "/tmp/gridnode.sock", Net: "unix"}, true},
		{nil, false},
	} {
		if got := isLoopback(tc.addr); got != tc.want {
			t.Errorf("isLoopback(%v) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}

// closedCount reads gridnode_clients_closed_total{reason}.
func closedCount(t *testing.T, n *testNode, reason string) float64 {
	t.Helper()
	var m dto.Metric
	if err := n.srv.metrics.closed.WithLabelValues(reason).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
