package server

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session/memory"
)

// memConn is a net.Conn whose input is a fixed byte string and whose
// output is kept.
type memConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *memConn) Read(p []byte) (int, error)       { return c.in.Read(p) }
func (c *memConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6379} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// panicCatcher is a slog handler that records the server's panic logs
// (the connection goroutine recovers them; the fuzzer must see them).
type panicCatcher struct {
	mu     sync.Mutex
	panics []string
}

func (h *panicCatcher) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h *panicCatcher) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *panicCatcher) WithGroup(string) slog.Handler                { return h }
func (h *panicCatcher) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	})
	h.mu.Lock()
	h.panics = append(h.panics, b.String())
	h.mu.Unlock()
	return nil
}

// take returns the panics logged since the last call and forgets them.
func (h *panicCatcher) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	panics := h.panics
	h.panics = nil
	return panics
}

// fuzzServer is a server over a memory store whose error logs, the panics
// a connection recovered, the fuzz function checks after each input.
type fuzzServer struct {
	srv     *Server
	catcher *panicCatcher
	lastID  int64
}

// newFuzzServer makes a server with cfg, logging to the catcher, and no
// listener: serve runs connections over inputs. Its store is closed when
// the fuzz test ends.
func newFuzzServer(f *testing.F, cfg Config) *fuzzServer {
	f.Helper()
	catcher := &panicCatcher{}
	store, err := memory.New(memory.Config{SweepInterval: -1, Logger: slog.New(catcher)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close(context.Background()) })
	cfg.Logger = slog.New(catcher)
	srv, err := New(cfg, store)
	if err != nil {
		f.Fatal(err)
	}
	return &fuzzServer{srv: srv, catcher: catcher}
}

// serve serves a new connection over input until it ends (the end of the
// input, QUIT or a protocol error) and returns it with its output.
func (fs *fuzzServer) serve(input []byte) (*conn, []byte) {
	mc := &memConn{in: bytes.NewReader(input)}
	fs.lastID++
	c := newConn(fs.srv, mc, fs.lastID)
	fs.srv.mu.Lock()
	fs.srv.conns[c] = struct{}{}
	fs.srv.wg.Add(1)
	fs.srv.mu.Unlock()
	c.serve()
	return c, mc.out.Bytes()
}

var fuzzSeeds = []string{
	"PING\r\n",
	"*1\r\n$4\r\nPING\r\n",
	"*4\r\n$4\r\nHSET\r\n$1\r\nk\r\n$1\r\nf\r\n$1\r\nv\r\n*3\r\n$4\r\nHGET\r\n$1\r\nk\r\n$1\r\nf\r\n",
	"HSET s a 1 b 2\r\nHGETALL s\r\nHMGET s a b c\r\nHDEL s a\r\nHLEN s\r\nHKEYS s\r\nHVALS s\r\n",
	"SET k v NX PX 100\r\nGET k\r\nDELEX k IFEQ v\r\nSET k v EXAT 1\r\nSET k 1 KEEPTTL GET\r\nINCR k\r\n",
	"HELLO 3\r\nHGETALL x\r\nSESSION.PROPS x\r\nGLOBAL.ALL\r\nHELLO 2 AUTH default pw SETNAME n\r\n",
	"SESSION.PROPSET s p v\r\nSESSION.CLEAR s RETAIN a b\r\nSESSION.EXPIRY s -1 1000\r\nGLOBAL.SET g v\r\nGLOBAL.KEYS\r\n",
	"SCAN 0 MATCH * COUNT 5 TYPE hash\r\nKEYS [a-\r\nEXPIRE k 10\r\nTTL k\r\nPERSIST k\r\nFLUSHALL\r\n",
	"CLIENT SETNAME x\r\nCLIENT LIST\r\nCOMMAND INFO get\r\nCONFIG GET *\r\nINFO\r\nRESET\r\nQUIT\r\n",
	"*2\r\n$4\r\nECHO\r\n$5\r\nhel",
	"*-1\r\n*0\r\n$3\r\n",
	"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$99999999999\r\n",
	"*1\r\n$4\r\nPINGxx",
	"HSET k f " + strings.Repeat("x", 300) + "\r\n",
	"HINCRBY h f 9223372036854775807\r\nHINCRBY h f 1\r\nHINCRBYFLOAT h g 1e308\r\nHINCRBYFLOAT h g 1e308\r\nHSETNX h f v\r\nHSCAN h -1 MATCH * COUNT 1 NOVALUES\r\nHRANDFIELD h -5 WITHVALUES\r\n",
	"SETRANGE k 9223372036854775807 x\r\nSETRANGE k 255 x\r\nAPPEND k y\r\nGETRANGE k -9223372036854775808 9223372036854775807\r\nINCRBYFLOAT k 1\r\nGETEX k PXAT 9223372036854775807\r\nGETDEL k\r\n",
	"MSET a 1 b 2\r\nMSETNX a 1 c 3\r\nRENAME a z\r\nCOPY z y REPLACE DB 0\r\nEXPIRE y 9223372036854775807 GT\r\nPEXPIREAT y -9223372036854775808 LT\r\nEXPIRETIME y\r\n",
	"TOUCH a b\r\nRANDOMKEY\r\nOBJECT ENCODING y\r\nMEMORY USAGE y SAMPLES 0\r\nWAIT 1 0\r\nSLOWLOG GET -1\r\nCOMMAND DOCS hset\r\nINFO commandstats\r\nCLIENT KILL ID 1\r\nLPUSH l a\r\nSELECT 1\r\n",
}

func FuzzRESP(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	fs := newFuzzServer(f, Config{MaxRequestBytes: 64 << 10, MaxValueSize: 256})
	f.Fuzz(func(t *testing.T, input []byte) {
		_, out := fs.serve(input)
		if panics := fs.catcher.take(); len(panics) > 0 {
			t.Fatalf("input %q: %s", input, panics[0])
		}
		if err := validReplies(out); err != "" {
			t.Fatalf("input %q: invalid reply stream: %s\n%q", input, err, out)
		}
	})
}

// validReplies checks that b is a sequence of well-formed RESP2/RESP3
// replies, and returns what is wrong otherwise.
func validReplies(b []byte) string {
	for len(b) > 0 {
		n, err := validReply(b, 0)
		if err != "" {
			return err
		}
		b = b[n:]
	}
	return ""
}

func validReply(b []byte, depth int) (int, string) {
	if depth > 8 {
		return 0, "nested too deep"
	}
	i := bytes.Index(b, []byte("\r\n"))
	if i < 1 {
		return 0, "no CRLF-terminated header"
	}
	head, rest := b[:i], i+2
	switch head[0] {
	case '+', '-':
		if bytes.ContainsAny(head, "\r\n") {
			return 0, "CR or LF in a simple reply"
		}
		return rest, ""
	case ':':
		if _, err := strconv.ParseInt(string(head[1:]), 10, 64); err != nil {
			return 0, "bad integer " + string(head)
		}
		return rest, ""
	case '_':
		return rest, ""
	case '$':
		n, err := strconv.Atoi(string(head[1:]))
		if err != nil || n < -1 {
			return 0, "bad bulk length " + string(head)
		}
		if n == -1 {
			return rest, ""
		}
		if len(b) < rest+n+2 || string(b[rest+n:rest+n+2]) != "\r\n" {
			return 0, "truncated bulk"
		}
		return rest + n + 2, ""
	case '*', '%', '~':
		n, err := strconv.Atoi(string(head[1:]))
		if err != nil || n < -1 {
			return 0, "bad aggregate length " + string(head)
		}
		if head[0] == '%' {
			n *= 2
		}
		for range max(n, 0) {
			m, e := validReply(b[rest:], depth+1)
			if e != "" {
				return 0, e
			}
			rest += m
		}
		return rest, ""
	}
	return 0, "unknown reply type " + strconv.Quote(string(head[:1]))
}
