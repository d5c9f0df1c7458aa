package main

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// More HTTP connections than --http-max-conns wait unserved; the RESP port
// keeps accepting.
func TestHTTPConnectionCap(t *testing.T) {
	const limit = 4
	n := startNode(t, "--http-addr", "127.0.0.1:0", "--http-max-conns", "4", "--log-level", "debug")
	resp, hAddr := n.resp, n.http
	get := func(c net.Conn) (*bufio.Reader, error) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			return nil, err
		}
		r := bufio.NewReader(c)
		line, err := r.ReadString('\n')
		if err == nil && !strings.HasPrefix(line, "HTTP/1.1 200") {
			err = errors.New("status line " + line)
		}
		return r, err
	}
	// limit keep-alive connections, each served once and left open.
	held := make([]net.Conn, limit)
	for i := range held {
		c, err := net.Dial("tcp", hAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := get(c); err != nil {
			t.Fatalf("connection %d under the cap: %v", i, err)
		}
		held[i] = c
	}
	// Twice as many more: connected by the kernel, not served.
	extra := make([]net.Conn, 2*limit)
	for i := range extra {
		c, err := net.Dial("tcp", hAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		extra[i] = c
	}
	first := extra[0]
	if _, err := first.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	first.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := first.Read(make([]byte, 1)); n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a connection over the cap was served (%d bytes, %v)", n, err)
	}
	// The RESP port is not starved.
	for range 3 {
		if got := ping(t, resp); got != "+PONG\r\n" {
			t.Fatalf("PING with the HTTP port at its cap = %q", got)
		}
	}
	// Closing one held connection lets a waiting one in.
	held[0].Close()
	first.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(first).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Fatalf("the waiting connection after one closed: %q, %v", line, err)
	}
}

// Protected mode through gridnode's flags: RESP on a non-loopback address
// without a password refuses a client from that address, with a warning at
// start; --protected-mode no serves it.
func TestProtectedModeFlag(t *testing.T) {
	ip := nonLoopbackIPv4(t)
	for _, tc := range []struct {
		args []string
		want string
		warn bool
	}{
		{nil, "-DENIED", true},
		{[]string{"--protected-mode", "no"}, "+PONG", false},
		{[]string{"--password", "pw"}, "-NOAUTH", false},
	} {
		t.Run(strings.Join(append([]string{"default"}, tc.args...), " "), func(t *testing.T) {
			n := startNode(t, append([]string{"--addr", net.JoinHostPort(ip, "0")}, tc.args...)...)
			resp, log := n.resp, n.log
			if got := ping(t, resp); !strings.HasPrefix(got, tc.want) {
				t.Fatalf("PING from %s = %q, want %s", ip, got, tc.want)
			}
			if warned := strings.Contains(log.String(), "protected mode: no password"); warned != tc.warn {
				t.Fatalf("start warning logged = %v, want %v; log:\n%s", warned, tc.warn, log.String())
			}
		})
	}
}

func nonLoopbackIPv4(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skipf("no interface addresses: %v", err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
			return ipn.IP.String()
		}
	}
	t.Skip("this machine has no non-loopback IPv4 address")
	return ""
}

func TestFileLimitWarning(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	if lim.Max > 1<<40 {
		t.Skip("the open-file hard limit is unlimited")
	}
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	checkFileLimit(log, 10)
	if strings.Contains(buf.String(), "exceeds the open-file limit") {
		t.Fatalf("warned for 10 clients: %s", buf.String())
	}
	checkFileLimit(log, int(lim.Max)+1000)
	if !strings.Contains(buf.String(), "--max-clients exceeds the open-file limit") {
		t.Fatalf("no warning for max-clients over the hard limit %d: %q", lim.Max, buf.String())
	}
}

func TestAbuseOptions(t *testing.T) {
	o, err := parseOptions(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !o.abuse.protectedMode || o.abuse.httpMaxConns != defaultHTTPMaxConns ||
		o.abuse.clientWriteTimeout != defaultClientWriteTimeout || o.abuse.clientOutputLimit != 0 {
		t.Fatalf("defaults: %+v", o.abuse)
	}
	if c := o.serverConfig(nil); c.DisableProtectedMode || c.WriteTimeout != defaultClientWriteTimeout {
		t.Fatalf("server config from the defaults: %+v", c)
	}
	o, err = parseOptions([]string{"--http-max-conns", "9", "--client-output-limit", "1MiB"},
		env(map[string]string{"GRIDNODE_PROTECTED_MODE": "no", "GRIDNODE_CLIENT_WRITE_TIMEOUT": "5s"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := o.serverConfig(nil)
	if o.abuse.httpMaxConns != 9 || !c.DisableProtectedMode || c.OutputLimit != 1<<20 || c.WriteTimeout != 5*time.Second {
		t.Fatalf("flags and environment not applied: %+v / %+v", o.abuse, c)
	}
	for _, args := range [][]string{
		{"--protected-mode", "maybe"},
		{"--http-max-conns", "0"},
		{"--client-write-timeout", "-1s"},
		{"--client-output-limit", "1000"},
	} {
		if _, err := parseOptions(args, env(nil), io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
