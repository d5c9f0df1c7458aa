package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/testcert"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	respAddrRE   = regexp.MustCompile(`resp_addr=(\S+)`)
	httpAddrRE   = regexp.MustCompile(`http_addr=(\S+)`)
	tlsAddrRE    = regexp.MustCompile(`tls_addr=(\S+)`)
	raftAddrRE   = regexp.MustCompile(`Raft started".* raft_addr=(\S+)`)
	gossipAddrRE = regexp.MustCompile(`cluster: node started".* gossip=(\S+)`)
)

// waitForAddrs polls the log for the addresses gridnode bound.
func waitForAddrs(t *testing.T, log func() string, done <-chan struct{}) (resp, httpAddr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := log()
		if m := respAddrRE.FindStringSubmatch(s); m != nil {
			h := httpAddrRE.FindStringSubmatch(s)
			return m[1], h[1]
		}
		select {
		case <-done:
			t.Fatalf("gridnode exited before serving; log:\n%s", s)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("gridnode did not log its addresses; log:\n%s", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testNode is a gridnode run in this process (run with real flags, real
// listeners on loopback), stopped when the test ends.
type testNode struct {
	t      *testing.T
	log    *syncBuffer
	done   chan struct{}
	cancel context.CancelFunc
	code   int
	resp   string // RESP address
	http   string // HTTP address, "" without one
	tls    string // TLS address, "" without one
	raft   string // Raft address, "" standalone
	gossip string
}

// startNode runs gridnode with args and waits for its addresses (the Raft
// and gossip ones too when args ask for cluster mode).
func startNode(t *testing.T, args ...string) *testNode {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n := &testNode{t: t, log: &syncBuffer{}, done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(n.done)
		var stdout syncBuffer
		n.code = run(ctx, append([]string{"--addr", "127.0.0.1:0", "--http-addr", ""}, args...), env(nil), &stdout, n.log)
	}()
	t.Cleanup(n.stop)
	clusterMode := strings.Contains(strings.Join(args, " "), "--join") || strings.Contains(strings.Join(args, " "), "--bootstrap-expect")
	n.waitFor("its addresses in the log", func() bool {
		s := n.log.String()
		if m := respAddrRE.FindStringSubmatch(s); m != nil {
			n.resp = m[1]
		}
		if m := httpAddrRE.FindStringSubmatch(s); m != nil && m[1] != "disabled" {
			n.http = m[1]
		}
		if m := tlsAddrRE.FindStringSubmatch(s); m != nil && m[1] != "disabled" {
			n.tls = m[1]
		}
		if m := raftAddrRE.FindStringSubmatch(s); m != nil {
			n.raft = m[1]
		}
		if m := gossipAddrRE.FindStringSubmatch(s); m != nil {
			n.gossip = m[1]
		}
		return n.resp != "" && (!clusterMode || n.raft != "" && n.gossip != "")
	})
	return n
}

// stop shuts the node down (SIGTERM's path: drain, leave) and checks that
// it exited cleanly. Idempotent.
func (n *testNode) stop() {
	n.cancel()
	select {
	case <-n.done:
	case <-time.After(60 * time.Second):
		n.t.Errorf("gridnode did not stop within 60 s; log:\n%s", n.log.String())
		return
	}
	if n.code != exitOK && !n.t.Failed() {
		n.t.Errorf("exit code %d; log:\n%s", n.code, n.log.String())
	}
}

func (n *testNode) waitFor(what string, cond func() bool) {
	n.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		select {
		case <-n.done:
			n.t.Fatalf("gridnode exited; log:\n%s", n.log.String())
		default:
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("timed out waiting for %s; log:\n%s", what, n.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tlsPort writes, in dir, a certificate of gridnode signed by ca and ca's
// certificate, and returns the CA file and the flags of a TLS port serving
// that certificate to clients of ca.
func tlsPort(t *testing.T, ca *testcert.CA, dir string) (caFile string, flags []string) {
	t.Helper()
	certFile, keyFile := ca.Issue(t, "gridnode").WriteFiles(t, dir, "server")
	caFile = ca.WriteFile(t, dir, "ca")
	return caFile, []string{"--tls-addr", "127.0.0.1:0", "--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-ca-cert-file", caFile}
}

// ping sends PING over a raw connection and returns the reply line.
func ping(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return line
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestRunInProcess(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	e := env(map[string]string{"GRIDNODE_ADDR": "127.0.0.1:0", "GRIDNODE_HTTP_ADDR": "127.0.0.1:0"})
	done := make(chan struct{})
	var code int
	go func() {
		defer close(done)
		code = run(ctx, []string{"--log-format", "text", "--log-level", "debug"}, e, &stdout, &stderr)
	}()
	resp, hAddr := waitForAddrs(t, stderr.String, done)
	if got := ping(t, resp); got != "+PONG\r\n" {
		t.Fatalf("PING = %q", got)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if got := httpStatus(t, "http://"+hAddr+path); got != 200 {
			t.Errorf("GET %s = %d", path, got)
		}
	}
	// A client connected at shutdown is disconnected, not left hanging.
	c, err := net.Dial("tcp", resp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cancel()
	<-done
	if code != exitOK {
		t.Fatalf("exit code %d; log:\n%s", code, stderr.String())
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("client after shutdown: %v, want EOF", err)
	}
	if !strings.Contains(stderr.String(), "gridnode stopped") {
		t.Fatalf("no stop message in the log:\n%s", stderr.String())
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	var stdout, stderr syncBuffer
	code := run(context.Background(), []string{"--max-clients", "-3"}, env(nil), &stdout, &stderr)
	if code != exitConfig || !strings.Contains(stderr.String(), "--max-clients") {
		t.Fatalf("code %d, stderr %q", code, stderr.String())
	}
}

func TestRunAddressInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var stdout, stderr syncBuffer
	code := run(context.Background(), []string{"--addr", l.Addr().String(), "--http-addr", ""}, env(nil), &stdout, &stderr)
	if code != exitFailed || !strings.Contains(stderr.String(), "cannot listen") {
		t.Fatalf("code %d, stderr %q", code, stderr.String())
	}
}
