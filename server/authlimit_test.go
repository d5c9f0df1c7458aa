package server

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Failed AUTHs are slowed down, counted, and the connection is closed after
// MaxAuthFailures; a right password on a new connection still works.
func TestAuthFailuresBounded(t *testing.T) {
	n := startNode(t, Config{Password: "s3cret"})
	conn := n.dial(t)
	r := bufio.NewReader(conn)
	start := time.Now()
	for i := range MaxAuthFailures {
		if _, err := conn.Write([]byte("AUTH guess\r\n")); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
		line, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "-WRONGPASS") {
			t.Fatalf("attempt %d: %q, %v", i+1, line, err)
		}
	}
	var least time.Duration
	for i := 1; i <= MaxAuthFailures; i++ {
		least += min(time.Duration(i)*authFailureDelay, authMaxFailureDelay)
	}
	if d := time.Since(start); d < least {
		t.Fatalf("%d failed AUTHs took %v, want at least %v", MaxAuthFailures, d, least)
	}
	// The connection is closed: the next request gets nothing (EOF, or a
	// reset because the request was never read).
	_, _ = conn.Write([]byte("AUTH s3cret\r\n"))
	rest, err := io.ReadAll(r)
	if len(rest) != 0 || err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("after %d failures: %q, %v; want the connection closed", MaxAuthFailures, rest, err)
	}
	var m dto.Metric
	if err := n.srv.metrics.authFailures.Write(&m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetCounter().GetValue(); got != MaxAuthFailures {
		t.Fatalf("gridnode_auth_failures_total = %v", got)
	}
	other := n.dial(t)
	if _, err := other.Write([]byte("AUTH s3cret\r\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(other).ReadString('\n'); err != nil || line != "+OK\r\n" {
		t.Fatalf("right password on a new connection: %q, %v", line, err)
	}
}
