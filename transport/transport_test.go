package transport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/testpoll"
	"github.com/sessiongrid/sessiongrid/session"
)

// testLogger routes logs to t.Log and records them for assertions.
type logSink struct {
	mu    sync.Mutex
	lines []string
	t     testing.TB
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.lines = append(s.lines, string(p))
	s.mu.Unlock()
	s.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (s *logSink) contains(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func newTransport(t testing.TB, mutate func(*Config)) (*Transport, *logSink) {
	t.Helper()
	sink := &logSink{t: t}
	cfg := DefaultLocalConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(sink, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if mutate != nil {
		mutate(&cfg)
	}
	tr, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tr.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return tr, sink
}

func echo(_ context.Context, req []byte) ([]byte, error) { return append([]byte("echo:"), req...), nil }

func TestCallRoundTrip(t *testing.T) {
	srv, _ := newTransport(t, nil)
	cli, _ := newTransport(t, nil)
	srv.Handle(1, echo)
	got, err := cli.Call(context.Background(), srv.Addr(), 1, []byte("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "echo:hi" {
		t.Fatalf("got %q", got)
	}
	// Empty payloads and responses travel too.
	srv.Handle(2, func(context.Context, []byte) ([]byte, error) { return nil, nil })
	got, err = cli.Call(context.Background(), srv.Addr(), 2, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("empty call: %q, %v", got, err)
	}
}

// Many concurrent calls share one connection, each gets its own answer, and
// the writer batches them (fewer socket writes than frames).
func TestCallMultiplexed(t *testing.T) {
	srv, _ := newTransport(t, nil)
	cli, _ := newTransport(t, nil)
	srv.Handle(1, func(_ context.Context, req []byte) ([]byte, error) {
		time.Sleep(time.Millisecond) // keep many requests in flight
		return req, nil
	})
	const workers, per = 32, 50
	var wg sync.WaitGroup
	var failures atomic.Int64
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				want := fmt.Sprintf("w%d-%d", w, i)
				got, err := cli.Call(context.Background(), srv.Addr(), 1, []byte(want))
				if err != nil || string(got) != want {
					failures.Add(1)
					t.Errorf("call %s: got %q, %v", want, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	cli.mu.Lock()
	n := len(cli.conns)
	cli.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d connections to one peer, want 1", n)
	}
}

func TestRemoteErrorsKeepTheirSentinel(t *testing.T) {
	srv, _ := newTransport(t, nil)
	cli, _ := newTransport(t, nil)
	srv.Handle(1, func(context.Context, []byte) ([]byte, error) {
		return nil, fmt.Errorf("global %q: %w", "k", session.ErrNotFound)
	})
	_, err := cli.Call(context.Background(), srv.Addr(), 1, nil)
	var re *RemoteError
	if !errors.Is(err, session.ErrNotFound) || !errors.As(err, &re) || !strings.Contains(err.Error(), `global "k"`) {
		t.Fatalf("err = %v, want a RemoteError wrapping ErrNotFound", err)
	}
	_, err = cli.Call(context.Background(), srv.Addr(), 99, nil)
	if !errors.Is(err, ErrNoHandler) {
		t.Fatalf("unknown type: err = %v, want ErrNoHandler", err)
	}
}

func TestCallDeadline(t *testing.T) {
	srv, _ := newTransport(t, nil)
	cli, _ := newTransport(t, nil)
	srv.Handle(1, func(ctx context.Context, _ []byte) ([]byte, error) {
		if _, ok := ctx.Deadline(); !ok {
			return nil, errors.New("handler context has no deadline")
		}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := cli.Call(ctx, srv.Addr(), 1, nil)
	if !errors.Is(err, session.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("call took %v past a 100ms deadline", d)
	}
	// The connection is still usable afterwards.
	srv.Handle(2, echo)
	if _, err := cli.Call(context.Background(), srv.Addr(), 2, nil); err != nil {
		t.Fatal(err)
	}
}

func TestSharedSecret(t *testing.T) {
	srv, srvLog := newTransport(t, func(c *Config) { c.Secret = []byte("s3cret") })
	srv.Handle(1, echo)
	good, _ := newTransport(t, func(c *Config) { c.Secret = []byte("s3cret") })
	if _, err := good.Call(context.Background(), srv.Addr(), 1, nil); err != nil {
		t.Fatalf("same secret: %v", err)
	}
	for name, secret := range map[string][]byte{"forged": []byte("guess"), "missing": nil} {
		bad, _ := newTransport(t, func(c *Config) { c.Secret = secret })
		_, err := bad.Call(context.Background(), srv.Addr(), 1, nil)
		if !errors.Is(err, ErrAuth) {
			t.Fatalf("%s secret: err = %v, want ErrAuth", name, err)
		}
	}
	testpoll.Until(t, 10*time.Second, "the server to log the failed authentication", func() bool {
		return srvLog.contains("shared secret")
	})
}

// A peer speaking another protocol to the transport port gets a RESP error
// line and the transport logs what it was.
func TestWrongProtocolOnTransportPort(t *testing.T) {
	srv, srvLog := newTransport(t, nil)
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = c.Write([]byte("*1\r\n$4\r\nPING\r\n" + strings.Repeat(" ", 16)))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != WrongPortReply {
		t.Fatalf("reply = %q, %v; want %q", line, err, WrongPortReply)
	}
	testpoll.Until(t, 10*time.Second, "the log line", func() bool { return srvLog.contains("RESP") })
}

// A transport dialing a port of another protocol gets a clear error.
func TestDialWrongPort(t *testing.T) {
	cli, _ := newTransport(t, nil)
	cases := []struct {
		name  string
		serve func(net.Conn)
	}{
		{"resp-like reply", func(c net.Conn) { _, _ = c.Write([]byte("-ERR unknown command\r\n")) }},
		{"silent", func(c net.Conn) { _, _ = io.Copy(io.Discard, c) }},
		{"hang up", func(c net.Conn) { _ = c.Close() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				tc.serve(c)
			}()
			defer wg.Wait()
			defer ln.Close()
			_, err = cli.Call(context.Background(), ln.Addr().String(), 1, nil)
			if !errors.Is(err, ErrProtocol) || !errors.Is(err, session.ErrUnavailable) ||
				!strings.Contains(err.Error(), "not a sessiongrid internal transport port") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestFrameSizeBound(t *testing.T) {
	srv, srvLog := newTransport(t, func(c *Config) { c.MaxFrameSize = 1024; c.MaxQueueBytes = 1 << 20 })
	srv.Handle(1, echo)
	cli, _ := newTransport(t, nil)
	if _, err := cli.Call(context.Background(), srv.Addr(), 1, bytes.Repeat([]byte("x"), 900)); err != nil {
		t.Fatalf("under the limit: %v", err)
	}
	// The client's own limit is larger: the server refuses the frame and
	// drops the connection.
	_, err := cli.Call(context.Background(), srv.Addr(), 1, bytes.Repeat([]byte("x"), 2000))
	if !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("over the server's limit: err = %v", err)
	}
	testpoll.Until(t, 10*time.Second, "the bad frame log", func() bool { return srvLog.contains("frame too large") })
	// The server's own outgoing limit is checked before sending.
	srv2, _ := newTransport(t, func(c *Config) { c.MaxFrameSize = 1024; c.MaxQueueBytes = 1 << 20 })
	if _, err := srv2.Call(context.Background(), srv.Addr(), 1, make([]byte, 2000)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("local limit: err = %v", err)
	}
	// And a handler response over the limit comes back as an error frame.
	srv.Handle(2, func(context.Context, []byte) ([]byte, error) { return make([]byte, 4096), nil })
	if _, err := cli.Call(context.Background(), srv.Addr(), 2, nil); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("large response: err = %v", err)
	}
}

func TestBlockedHookCutsCalls(t *testing.T) {
	srv, _ := newTransport(t, nil)
	srv.Handle(1, echo)
	var cut atomic.Bool
	cli, _ := newTransport(t, func(c *Config) { c.Blocked = func(string) bool { return cut.Load() } })
	if _, err := cli.Call(context.Background(), srv.Addr(), 1, nil); err != nil {
		t.Fatal(err)
	}
	cut.Store(true)
	if _, err := cli.Call(context.Background(), srv.Addr(), 1, nil); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("cut: err = %v", err)
	}
	cut.Store(false)
	if _, err := cli.Call(context.Background(), srv.Addr(), 1, nil); err != nil {
		t.Fatalf("healed: %v", err)
	}
}

func TestCloseFailsPendingAndIsIdempotent(t *testing.T) {
	srv, _ := newTransport(t, nil)
	release := make(chan struct{})
	srv.Handle(1, func(ctx context.Context, _ []byte) ([]byte, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil, nil
	})
	defer close(release)
	cli, err := New(DefaultLocalConfig())
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := cli.Call(context.Background(), srv.Addr(), 1, nil)
		errc <- err
	}()
	testpoll.Until(t, 10*time.Second, "the call to be in flight", func() bool {
		cli.mu.Lock()
		defer cli.mu.Unlock()
		for _, c := range cli.conns {
			c.mu.Lock()
			n := len(c.pending)
			c.mu.Unlock()
			return n == 1
		}
		return false
	})
	ctx := context.Background()
	if err := cli.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, session.ErrClosed) && !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("pending call: err = %v", err)
	}
	if err := cli.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := cli.Call(ctx, srv.Addr(), 1, nil); !errors.Is(err, session.ErrClosed) {
		t.Fatalf("call after Close: err = %v", err)
	}
}

func TestHandlerPanicIsAnError(t *testing.T) {
	srv, srvLog := newTransport(t, nil)
	cli, _ := newTransport(t, nil)
	srv.Handle(1, func(context.Context, []byte) ([]byte, error) { panic("boom") })
	srv.Handle(2, echo)
	if _, err := cli.Call(context.Background(), srv.Addr(), 1, nil); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
	if _, err := cli.Call(context.Background(), srv.Addr(), 2, nil); err != nil {
		t.Fatalf("after a panic: %v", err)
	}
	testpoll.Until(t, 10*time.Second, "the panic log", func() bool { return srvLog.contains("handler panicked") })
}

// Close interrupts a peer stuck in the handshake instead of waiting for
// its timeout.
func TestCloseInterruptsHandshake(t *testing.T) {
	cfg := DefaultLocalConfig()
	cfg.HandshakeTimeout = time.Minute
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	testpoll.Until(t, 10*time.Second, "the handshake to start", func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return len(srv.handshaking) == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
