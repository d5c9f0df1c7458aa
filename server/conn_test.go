package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// readReply reads one RESP reply from r and returns it as text (nested
// replies flattened, one element per line) for comparisons.
func readReply(t testing.TB, r *bufio.Reader) string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading a reply: %v", err)
	}
	line = strings.TrimSuffix(line, "\r\n")
	switch line[0] {
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "(nil)"
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatal(err)
		}
		return string(b[:n])
	case '*', '%', '~':
		n, _ := strconv.Atoi(line[1:])
		if line[0] == '%' {
			n *= 2
		}
		parts := []string{line}
		for range n {
			parts = append(parts, readReply(t, r))
		}
		return strings.Join(parts, "\n")
	}
	return line
}

func TestPipelining(t *testing.T) {
	n := startNode(t, Config{})
	conn := n.dial(t)
	// Many commands in one write, some in the inline form.
	var req bytes.Buffer
	const count = 2000
	for i := range count {
		k := fmt.Sprintf("pipe:%d", i%50)
		v := fmt.Sprintf("value-%d", i)
		fmt.Fprintf(&req, "*4\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n$1\r\nf\r\n$%d\r\n%s\r\n", len(k), k, len(v), v)
		fmt.Fprintf(&req, "HGET %s f\r\n", k)
	}
	req.WriteString("PING\r\n")
	if _, err := conn.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	for i := range count {
		want := ":0"
		if i < 50 {
			want = ":1"
		}
		if got := readReply(t, r); got != want {
			t.Fatalf("HSET %d = %q, want %q", i, got, want)
		}
		if got, want := readReply(t, r), fmt.Sprintf("value-%d", i); got != want {
			t.Fatalf("HGET %d = %q, want %q", i, got, want)
		}
	}
	if got := readReply(t, r); got != "+PONG" {
		t.Fatalf("last reply %q", got)
	}

	// go-redis pipeline, RESP3.
	c := n.client(t, 3)
	ctx := context.Background()
	cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range 500 {
			p.Set(ctx, fmt.Sprintf("gp:%d", i), i, 0)
			p.Get(ctx, fmt.Sprintf("gp:%d", i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(cmds); i += 2 {
		if got := cmds[i].(*redis.StringCmd).Val(); got != strconv.Itoa(i/2) {
			t.Fatalf("pipelined GET %d = %q", i/2, got)
		}
	}
}

// TestRequestSplitAnywhere sends a pipeline one byte at a time: the
// parser must resume wherever a read stops.
func TestRequestSplitAnywhere(t *testing.T) {
	n := startNode(t, Config{})
	conn := n.dial(t)
	req := "*3\r\n$4\r\nHSET\r\n$1\r\nk\r\n$1\r\nf\r\n" // arity error, still parsed
	req += "*4\r\n$4\r\nHSET\r\n$1\r\nk\r\n$1\r\nf\r\n$5\r\nhello\r\n"
	req += "PING\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"
	for i := range len(req) {
		if _, err := conn.Write([]byte{req[i]}); err != nil {
			t.Fatal(err)
		}
	}
	r := bufio.NewReader(conn)
	for _, want := range []string{"-ERR wrong number of arguments for 'hset' command", ":1", "+PONG", ""} {
		if got := readReply(t, r); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestProtocolErrorsCloseTheConnection(t *testing.T) {
	n := startNode(t, Config{MaxRequestBytes: 4096})
	cases := []struct{ name, input, want string }{
		{"bad multibulk length", "*x\r\n", "-ERR Protocol error: invalid multibulk length"},
		{"huge multibulk length", "*99999999999\r\n", "-ERR Protocol error: invalid multibulk length"},
		{"too many args for the limit", "*1000\r\n", "-ERR Protocol error: invalid multibulk length: 1000 arguments cannot fit in the request limit of 4096 bytes"},
		{"expected $", "*1\r\n:1\r\n", "-ERR Protocol error: expected '$', got ':'"},
		{"bad bulk length", "*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length"},
		{"bulk over the limit", "*2\r\n$4\r\nECHO\r\n$10000\r\n", "-ERR Protocol error: request exceeds the limit of 4096 bytes"},
		{"missing CRLF after bulk", "*1\r\n$4\r\nPINGxx", "-ERR Protocol error: expected CRLF after a bulk string"},
		{"CR without LF", "*1\r\r", "-ERR Protocol error: expected CRLF after the multibulk count"},
		{"inline too long", strings.Repeat("a", 70000), "-ERR Protocol error: too big inline request"},
		{"header too long", "*1\r\n$" + strings.Repeat("1", 70000), "-ERR Protocol error: too big bulk count string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := n.dial(t)
			go conn.Write([]byte(tc.input)) // may block on a large input the server stops reading
			r := bufio.NewReader(conn)
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("no reply: %v", err)
			}
			if got := strings.TrimSuffix(line, "\r\n"); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if _, err := r.ReadByte(); !errors.Is(err, io.EOF) && !isReset(err) {
				t.Fatalf("connection not closed after a protocol error: %v", err)
			}
		})
	}
	// The node still serves.
	if err := n.client(t, 2).Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

func TestEmptyRequestsIgnored(t *testing.T) {
	n := startNode(t, Config{})
	conn := n.dial(t)
	conn.Write([]byte("*0\r\n*-1\r\n\r\n   \r\nPING\r\n"))
	if got := readReply(t, bufio.NewReader(conn)); got != "+PONG" {
		t.Fatalf("got %q", got)
	}
}

func TestLimits(t *testing.T) {
	t.Run("max value size", func(t *testing.T) {
		n := startNode(t, Config{MaxValueSize: 100})
		c := n.client(t, 3)
		ctx := context.Background()
		err := c.HSet(ctx, "k", "f", strings.Repeat("x", 101)).Err()
		if err == nil || !strings.HasPrefix(err.Error(), "TOOLARGE") {
			t.Fatalf("err = %v, want TOOLARGE", err)
		}
		if err := c.HSet(ctx, "k", "f", strings.Repeat("x", 100)).Err(); err != nil {
			t.Fatalf("a value at the limit: %v", err)
		}
		for _, cmd := range [][]any{
			{"SET", "s", strings.Repeat("x", 101)},
			{"SESSION.PROPSET", "k", "p", strings.Repeat("x", 101)},
			{"GLOBAL.SET", "g", strings.Repeat("x", 101)},
		} {
			if err := c.Do(ctx, cmd...).Err(); err == nil || !strings.HasPrefix(err.Error(), "TOOLARGE") {
				t.Errorf("%v: err = %v, want TOOLARGE", cmd[0], err)
			}
		}
	})
	t.Run("max request size", func(t *testing.T) {
		n := startNode(t, Config{MaxRequestBytes: 2048, MaxValueSize: 1024})
		c := n.client(t, 2)
		err := c.HSet(context.Background(), "k", "f", strings.Repeat("x", 3000)).Err()
		if err == nil || !strings.Contains(err.Error(), "Protocol error") {
			t.Fatalf("err = %v, want a protocol error", err)
		}
		c = n.client(t, 2) // the server closed the first client's connection
		if got, err := c.Exists(context.Background(), "k").Result(); err != nil || got != 0 {
			t.Fatalf("the refused request changed data: EXISTS = %d, %v", got, err)
		}
	})
	t.Run("max clients", func(t *testing.T) {
		n := startNode(t, Config{MaxConnections: 2})
		for range 2 {
			conn := n.dial(t)
			conn.Write([]byte("PING\r\n"))
			if got := readReply(t, bufio.NewReader(conn)); got != "+PONG" {
				t.Fatal(got)
			}
		}
		conn := n.dial(t)
		r := bufio.NewReader(conn)
		line, err := r.ReadString('\n')
		if err != nil || line != "-ERR max number of clients reached\r\n" {
			t.Fatalf("third client got %q, %v", line, err)
		}
		if _, err := r.ReadByte(); !errors.Is(err, io.EOF) && !isReset(err) {
			t.Fatalf("third client not disconnected: %v", err)
		}
		if n.srv.rejected.Load() != 1 {
			t.Fatalf("rejected = %d", n.srv.rejected.Load())
		}
	})
	t.Run("idle timeout", func(t *testing.T) {
		n := startNode(t, Config{IdleTimeout: 100 * time.Millisecond})
		conn := n.dial(t)
		conn.Write([]byte("PING\r\n"))
		r := bufio.NewReader(conn)
		if got := readReply(t, r); got != "+PONG" {
			t.Fatal(got)
		}
		start := time.Now()
		if _, err := r.ReadByte(); !errors.Is(err, io.EOF) && !isReset(err) {
			t.Fatalf("idle client not disconnected: %v", err)
		}
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Fatalf("disconnected after %v, before the idle timeout", d)
		}
		// An active client is not disconnected.
		c := n.client(t, 3)
		for range 5 {
			if err := c.Ping(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(40 * time.Millisecond)
		}
	})
}

func TestQuit(t *testing.T) {
	n := startNode(t, Config{})
	conn := n.dial(t)
	conn.Write([]byte("PING\r\nQUIT\r\nPING\r\n"))
	r := bufio.NewReader(conn)
	for _, want := range []string{"+PONG", "+OK"} {
		if got := readReply(t, r); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if b, err := r.ReadByte(); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("after QUIT: %q, %v; want EOF", b, err)
	}
	waitFor(t, "the connection to be forgotten", func() bool {
		_, open := n.srv.totals()
		return open == 0
	})
}

func TestConnectionCommands(t *testing.T) {
	n := startNode(t, Config{})
	conn := n.dial(t)
	r := bufio.NewReader(conn)
	do := func(req string) string {
		t.Helper()
		if _, err := conn.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		return readReply(t, r)
	}
	is := func(want string) func(string) bool { return func(got string) bool { return got == want } }
	prefix := func(p string) func(string) bool { return func(got string) bool { return strings.HasPrefix(got, p) } }
	steps := []struct {
		req string // sent in the inline form
		ok  func(reply string) bool
	}{
		{"PING hi", is("hi")},
		{"ECHO hello", is("hello")},
		{"SELECT 0", is("+OK")},
		{"HGET nope f", is("(nil)")}, // RESP2 null
		{"HELLO 3 SETNAME bot-1", func(got string) bool {
			return strings.HasPrefix(got, "%8\n") && strings.Contains(got, "proto\n:3")
		}},
		{"HGET nope f", is("_")}, // RESP3 null
		{"CLIENT GETNAME", is("bot-1")},
		{`CLIENT SETNAME with\x20space`, is("+OK")}, // inline form has no quoting: the name has no space.
		{"CLIENT SETINFO LIB-NAME mylib", is("+OK")},
		{"CLIENT ID", prefix(":")},
		{"CLIENT LIST", func(got string) bool {
			return strings.Contains(got, "lib-name=mylib") && strings.Contains(got, "resp=3")
		}},
		{"HELLO 2", prefix("*16\n")},
		{"COMMAND COUNT", is(":" + strconv.Itoa(numCommands))},
		{"COMMAND INFO hget nosuch", func(got string) bool {
			return strings.HasPrefix(got, "*2\n*10\nhget\n:3\n") && strings.HasSuffix(got, "*-1")
		}},
		{"COMMAND DOCS", prefix("*" + strconv.Itoa(2*numCommands) + "\nping\n")},
		{"COMMAND DOCS hincrby nosuch", func(got string) bool {
			return strings.HasPrefix(got, "*2\nhincrby\n*8\nsummary\n") && strings.Contains(got, "name\nincrement\ntype\ninteger")
		}},
		{"COMMAND", prefix("*" + strconv.Itoa(numCommands) + "\n")},
		{"CONFIG GET save", is("*2\nsave\n")},
		{"CONFIG GET max*", is("*2\nmaxclients\n" + strconv.Itoa(DefaultMaxConnections))},
		{"TIME", prefix("*2\n")},
	}
	for _, step := range steps {
		if got := do(step.req + "\r\n"); !step.ok(got) {
			t.Fatalf("%s = %.200q", step.req, got)
		}
	}
	info := do("INFO\r\n")
	for _, want := range []string{"# Server", "redis_version:", "# Clients", "connected_clients:1", "# Memory", "used_memory:", "# Stats", "total_commands_processed:", "# Keyspace"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %q", want)
		}
	}
	do("HSET s f v\r\n")
	if got := do("INFO keyspace\r\n"); !strings.Contains(got, "db0:keys=1,") || strings.Contains(got, "# Server") {
		t.Fatalf("INFO keyspace = %q", got)
	}
}

func TestShutdownFinishesInFlightRequests(t *testing.T) {
	// A pipeline: the first request blocks in the backend.
	n, g, conn := startBlockedRequest(t, "HSET slow f v\r\nHGET slow f\r\n")
	shut := make(chan error, 1)
	go func() { shut <- n.srv.Shutdown(context.Background()) }()
	waitFor(t, "the listener to close", func() bool {
		c, err := net.Dial("tcp", n.addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	default:
	}
	close(g.release)
	r := bufio.NewReader(conn)
	for _, want := range []string{":1", "v"} {
		if got := readReply(t, r); got != want {
			t.Fatalf("in-flight reply %q, want %q", got, want)
		}
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("connection open after Shutdown: %v", err)
	}
}

func TestShutdownDeadline(t *testing.T) {
	n, _, conn := startBlockedRequest(t, "HSET slow f v\r\n")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := n.srv.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
	}
	// The blocked request saw its context cancelled.
	if _, err := bufio.NewReader(conn).ReadString('\n'); err == nil {
		// The reply may or may not have been written before the close.
		t.Log("got a reply before the forced close")
	}
}

// gate is a Backend whose Save blocks until release is closed (or the
// request's context ends).
type gate struct {
	Backend
	entered chan struct{}
	release chan struct{}
}

func newGate(b Backend) *gate {
	return &gate{Backend: b, entered: make(chan struct{}, 16), release: make(chan struct{})}
}

// startBlockedRequest starts a default node over a gate, sends req on a
// new connection and returns when its first request is blocked in the
// gate.
func startBlockedRequest(t *testing.T, req string) (*testNode, *gate, net.Conn) {
	t.Helper()
	n := startNodeWith(t, func(b Backend) Backend { return newGate(b) })
	g := n.backend.(*gate)
	conn := n.dial(t)
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	<-g.entered
	return n, g, conn
}

func (g *gate) Save(ctx context.Context, id string, fields ...sessionField) (int, error) {
	g.entered <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return g.Backend.Save(ctx, id, fields...)
}

// TestConnectionKeptAfterTOOLARGE: on one raw connection, a value over
// MaxValueSize gets -TOOLARGE and the connection stays open: the next
// request on it is answered, whether sent after the error was read or in
// the same pipeline. (A client library that reconnects silently would hide
// a server that closes after TOOLARGE; a raw connection cannot.) The test
// fails if the server closes the connection after a TOOLARGE reply.
func TestConnectionKeptAfterTOOLARGE(t *testing.T) {
	n := startNode(t, Config{MaxValueSize: 100})
	big := strings.Repeat("x", 101)
	hset := fmt.Sprintf("*4\r\n$4\r\nHSET\r\n$1\r\nk\r\n$1\r\nf\r\n$%d\r\n%s\r\n", len(big), big)
	type exchange struct {
		send string
		want []string // reply prefixes, read before the next send
	}
	for _, tc := range []struct {
		name  string
		steps []exchange
	}{
		{"one by one", []exchange{{hset, []string{"-TOOLARGE"}}, {"PING\r\n", []string{"+PONG"}}}},
		{"pipelined", []exchange{{hset + "PING\r\n" + hset + "HSET k f small\r\n", []string{"-TOOLARGE", "+PONG", "-TOOLARGE", ":1"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := n.dial(t)
			r := bufio.NewReader(conn)
			var got []string
			for _, step := range tc.steps {
				if _, err := conn.Write([]byte(step.send)); err != nil {
					t.Fatalf("replies %q, then the write failed: %v", got, err)
				}
				for _, w := range step.want {
					line, err := r.ReadString('\n')
					if err != nil {
						t.Fatalf("replies %q, then: %v (the connection was closed)", got, err)
					}
					got = append(got, strings.TrimRight(line, "\r\n"))
					if !strings.HasPrefix(got[len(got)-1], w) {
						t.Fatalf("replies %q, want the last to start with %q", got, w)
					}
				}
			}
		})
	}
}
