package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// waitClosed reads r until the server closes the connection and returns
// what it read and when the close was seen.
func waitClosed(t *testing.T, r *bufio.Reader) (string, time.Time) {
	t.Helper()
	got, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("waiting for the server to close the connection: %v (read %d bytes)", err, len(got))
	}
	return string(got), time.Now()
}

// A client that drips bytes of a command it never completes is closed at
// the idle timeout: only whole commands restart the clock.
func TestIdleTimeoutCountsWholeCommands(t *testing.T) {
	const idle = 400 * time.Millisecond
	n := startNode(t, Config{IdleTimeout: idle})
	conn := n.dial(t)
	r := bufio.NewReader(conn)
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := readReply(t, r); got != "+PONG" {
		t.Fatal(got)
	}
	lastCommand := time.Now()
	stop := make(chan struct{})
	dripped := make(chan int, 1)
	go func() {
		// A bulk string of 1000 bytes, sent a byte every 20 ms.
		k := 0
		defer func() { dripped <- k }()
		if _, err := conn.Write([]byte("*2\r\n$4\r\nECHO\r\n$1000\r\n")); err != nil {
			return
		}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for ; k < 1000; k++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := conn.Write([]byte("a")); err != nil {
				return
			}
		}
	}()
	got, closedAt := waitClosed(t, r)
	close(stop)
	k := <-dripped
	if got != "" {
		t.Fatalf("the dripping client got %q", got)
	}
	if d := closedAt.Sub(lastCommand); d < idle-idle/10-20*time.Millisecond || d > idle+2*time.Second {
		t.Fatalf("closed %v after its last command, want about %v (idle timeout)", d, idle)
	}
	if k < 5 {
		t.Fatalf("only %d bytes dripped before the close: the test did not drip", k)
	}
	if v := closedCount(t, n, closedIdle); v != 1 {
		t.Fatalf("gridnode_clients_closed_total{reason=idle_timeout} = %v, want 1", v)
	}

	// A client completing a command now and then, each sent slowly, stays.
	slow := n.dial(t)
	sr := bufio.NewReader(slow)
	deadline := time.Now().Add(3 * idle)
	for time.Now().Before(deadline) {
		for _, part := range []string{"PI", "NG", "\r\n"} {
			if _, err := slow.Write([]byte(part)); err != nil {
				t.Fatalf("the slow but complete client was closed: %v", err)
			}
			time.Sleep(idle / 8) // the pace of the client under test, not a wait for the server
		}
		if got := readReply(t, sr); got != "+PONG" {
			t.Fatalf("slow PING = %q", got)
		}
	}
}

// A client that pipelines without reading is cut off at the write
// timeout; its goroutine is freed and others are served.
func TestWriteTimeoutCutsNonReadingClient(t *testing.T) {
	const wt = 300 * time.Millisecond
	n := startNode(t, Config{WriteTimeout: wt})
	ctx := context.Background()
	c := n.client(t, 2)
	if err := c.Set(ctx, "big", strings.Repeat("x", 100<<10), 0).Err(); err != nil {
		t.Fatal(err)
	}
	conn := n.dial(t)
	req := []byte(strings.Repeat("GET big\r\n", 100))
	writeErr := make(chan error, 1)
	go func() {
		for {
			if _, err := conn.Write(req); err != nil {
				writeErr <- err
				return
			}
		}
	}()
	select {
	case err := <-writeErr:
		if !isReset(err) && !strings.Contains(err.Error(), "broken pipe") {
			t.Fatalf("the non-reading client's writes failed with %v, want a reset by the server", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a client that never reads was not cut off")
	}
	waitFor(t, "the connection to be closed", func() bool {
		_, open := n.srv.totals()
		return open <= 1 // the go-redis client's
	})
	if v := closedCount(t, n, closedWriteTimeout); v != 1 {
		t.Fatalf("gridnode_clients_closed_total{reason=write_timeout} = %v, want 1", v)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("another client: %v", err)
	}
}

// A reply over the output limit closes the connection; pipelined small
// replies, written every 64 KiB, never reach it.
func TestOutputLimit(t *testing.T) {
	n := startNode(t, Config{OutputLimit: MinOutputLimit})
	ctx := context.Background()
	c := n.client(t, 2)
	if err := c.Set(ctx, "big", strings.Repeat("x", MinOutputLimit+1), 0).Err(); err != nil {
		t.Fatal(err)
	}
	// 50,000 pipelined PINGs: 350 KB of replies, over the limit in total.
	conn := n.dial(t)
	go conn.Write([]byte(strings.Repeat("PING\r\n", 50000)))
	r := bufio.NewReader(conn)
	for i := range 50000 {
		if got := readReply(t, r); got != "+PONG" {
			t.Fatalf("pipelined PING %d = %q", i, got)
		}
	}
	// One reply over the limit: nothing of it is written, the connection closes.
	if _, err := conn.Write([]byte("GET big\r\nPING\r\n")); err != nil {
		t.Fatal(err)
	}
	if got, _ := waitClosed(t, r); got != "" {
		t.Fatalf("over the output limit the client got %d bytes (%.20q...)", len(got), got)
	}
	if v := closedCount(t, n, closedOutputLimit); v != 1 {
		t.Fatalf("gridnode_clients_closed_total{reason=output_buffer_limit} = %v, want 1", v)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("another client: %v", err)
	}
}

func TestAbuseBoundsValidate(t *testing.T) {
	for _, cfg := range []Config{
		{OutputLimit: -1},
		{OutputLimit: MinOutputLimit - 1},
		{WriteTimeout: -time.Second},
	} {
		if err := cfg.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", cfg)
		}
	}
	if err := (Config{OutputLimit: MinOutputLimit, WriteTimeout: time.Second}).Validate(); err != nil {
		t.Errorf("valid bounds refused: %v", err)
	}
}

// BenchmarkWriteTimeout measures the cost of the write deadline on a
// round trip (one PING, one flush): go test -run '^$' -bench WriteTimeout ./server
func BenchmarkWriteTimeout(b *testing.B) {
	for _, wt := range []time.Duration{0, 30 * time.Second} {
		b.Run("write-timeout="+wt.String(), func(b *testing.B) {
			n := startNode(b, Config{WriteTimeout: wt})
			conn := n.dial(b)
			conn.SetDeadline(time.Time{})
			r := bufio.NewReader(conn)
			req := []byte("PING\r\n")
			b.ResetTimer()
			for range b.N {
				if _, err := conn.Write(req); err != nil {
					b.Fatal(err)
				}
				if _, err := r.ReadString('\n'); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
