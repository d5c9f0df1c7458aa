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
	respAddrRE = regexp.MustCompile(`resp_addr=(\S+)`)
	httpAddrRE = regexp.MustCompile(`http_addr=(\S+)`)
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
