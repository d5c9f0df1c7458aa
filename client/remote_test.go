package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/testlog"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/server"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/sessiontest"
)

// TestConformance runs the contract's suite against a real gridnode server
// in-process, whose memory store reads the suite's fake clock, over both
// RESP versions. The Sweep rules skip themselves: sweeping is the server's
// business, a Remote is no session.Sweeper.
func TestConformance(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			sessiontest.Run(t, func(t *testing.T, env sessiontest.Env) session.Manager {
				ts := startServer(t, env, nil)
				r := newTestRemote(t, ts.addr, func(c *RemoteConfig) { c.Protocol = proto })
				return session.NewManager(r, session.Config{})
			})
		})
	}
}

// fakeReplyError is a RESP error reply as go-redis reports it.
type fakeReplyError string

func (e fakeReplyError) Error() string { return string(e) }
func (fakeReplyError) RedisError()     {}

func TestMapError(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	bg := context.Background()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want []error // every one must match errors.Is
		not  []error // none may match
	}{
		{"WrongType", bg, fakeReplyError("WRONGTYPE Operation against a key holding the wrong kind of value"), []error{session.ErrWrongType}, []error{session.ErrUnavailable}},
		{"InvalidID", bg, fakeReplyError("INVALIDID empty session id"), []error{session.ErrInvalidID}, nil},
		{"InvalidKey", bg, fakeReplyError("INVALIDKEY empty key"), []error{session.ErrInvalidKey}, nil},
		{"TooLarge", bg, fakeReplyError("TOOLARGE value of 9 bytes over the limit of 8"), []error{session.ErrTooLarge}, nil},
		{"Unavailable", bg, fakeReplyError("UNAVAILABLE no quorum"), []error{session.ErrUnavailable}, nil},
		{"CodeOnly", bg, fakeReplyError("WRONGTYPE"), []error{session.ErrWrongType}, nil},
		{"GenericERR", bg, fakeReplyError("ERR unknown command 'foo'"), nil, []error{session.ErrUnavailable, session.ErrWrongType, session.ErrNotFound}},
		{"CodeIsWholeWord", bg, fakeReplyError("WRONGTYPEX no"), nil, []error{session.ErrWrongType}},
		{"Nil", bg, redis.Nil, []error{session.ErrNotFound}, []error{session.ErrUnavailable}},
		{"ClientClosed", bg, redis.ErrClosed, []error{session.ErrClosed}, []error{session.ErrUnavailable}},
		{"EOF", bg, io.EOF, []error{session.ErrUnavailable, io.EOF}, nil},
		{"Refused", bg, &net.OpError{Op: "dial", Err: errors.New("connection refused")}, []error{session.ErrUnavailable}, nil},
		{"Deadline", bg, context.DeadlineExceeded, []error{session.ErrUnavailable, context.DeadlineExceeded}, nil},
		{"CallerCanceled", canceled, context.Canceled, []error{context.Canceled}, []error{session.ErrUnavailable}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mapError(tc.ctx, "HGET", tc.err)
			for _, w := range tc.want {
				if !errors.Is(got, w) {
					t.Errorf("mapError(%v) = %v, want it to match %v", tc.err, got, w)
				}
			}
			for _, n := range tc.not {
				if errors.Is(got, n) {
					t.Errorf("mapError(%v) = %v, must not match %v", tc.err, got, n)
				}
			}
		})
	}
	if mapError(bg, "HGET", nil) != nil {
		t.Error("mapError(nil) != nil")
	}
	// A generic reply keeps the redis.Error for errors.As.
	var re redis.Error
	if !errors.As(mapError(bg, "FOO", fakeReplyError("ERR unknown command")), &re) {
		t.Error("a generic error reply lost its redis.Error")
	}
}

func TestRetryClassification(t *testing.T) {
	ctx := context.Background()
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	read := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	if !neverSent(dial) || !neverSent(errors.Join(dial, dial)) || !neverSent(redis.ErrPoolTimeout) {
		t.Error("dial failures and pool timeouts must count as never sent")
	}
	if neverSent(read) || neverSent(io.EOF) || neverSent(fakeReplyError("ERR x")) {
		t.Error("a read failure may follow a sent request")
	}
	if !transient(ctx, read) || !transient(ctx, io.EOF) || !transient(ctx, fakeReplyError("UNAVAILABLE no quorum")) {
		t.Error("transport errors and UNAVAILABLE must be retryable for reads")
	}
	if transient(ctx, fakeReplyError("WRONGTYPE x")) || transient(ctx, redis.Nil) || transient(ctx, redis.ErrClosed) {
		t.Error("replies, nil and a closed client are not transient")
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if transient(canceled, io.EOF) {
		t.Error("nothing is retried once the caller's ctx is done")
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []RemoteConfig{
		{},
		{Addr: "localhost"},
		{Addrs: []string{"127.0.0.1:1", "nohost"}},
		{Addr: "127.0.0.1:1", Protocol: 4},
		{Addr: "127.0.0.1:1", PoolSize: -1},
		{Addr: "127.0.0.1:1", MaxRetries: -2},
		{Addr: "127.0.0.1:1", MaxValueSize: -1},
		{Addr: "127.0.0.1:1", DialTimeout: -time.Second},
	}
	for _, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
		if _, err := NewRemote(c); err == nil {
			t.Errorf("NewRemote(%+v) succeeded", c)
		}
	}
	if err := DefaultRemoteConfig().Validate(); err != nil {
		t.Errorf("DefaultRemoteConfig: %v", err)
	}
	c := RemoteConfig{Addr: "127.0.0.1:1", Addrs: []string{"127.0.0.1:2", "127.0.0.1:1", ""}, MaxRetries: -1}.withDefaults()
	if want := []string{"127.0.0.1:1", "127.0.0.1:2"}; fmt.Sprint(c.Addrs) != fmt.Sprint(want) {
		t.Errorf("addresses = %v, want %v", c.Addrs, want)
	}
	if c.MaxRetries != 0 || c.Protocol != 2 || c.MaxValueSize != session.DefaultMaxValueSize {
		t.Errorf("defaults not applied: %+v", c)
	}
}

// deadAddr returns an address on which nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestValidatedBeforeSending checks that bad calls fail with the contract's
// sentinel without touching the network: the Remote points at a dead
// address, where anything sent would give ErrUnavailable instead.
func TestValidatedBeforeSending(t *testing.T) {
	r := newTestRemote(t, deadAddr(t), func(c *RemoteConfig) { c.MaxValueSize = 16; c.MaxRetries = -1 })
	ctx := context.Background()
	big := bytes.Repeat([]byte("x"), 17)
	longID := strings.Repeat("i", session.MaxIDLen+1)
	checks := []struct {
		name string
		err  error
		want error
	}{
		{"Save/emptyID", second(r.Save(ctx, "", session.Field{Key: "k", Value: []byte("1")})), session.ErrInvalidID},
		{"Save/longID", second(r.Save(ctx, longID, session.Field{Key: "k", Value: []byte("1")})), session.ErrInvalidID},
		{"Save/emptyKey", second(r.Save(ctx, "s", session.Field{Key: "", Value: []byte("1")})), session.ErrInvalidKey},
		{"Save/tooLarge", second(r.Save(ctx, "s", session.Field{Key: "k", Value: big})), session.ErrTooLarge},
		{"Get/emptyKey", second(r.Get(ctx, "s", "")), session.ErrInvalidKey},
		{"GetAll/emptyID", second(r.GetAll(ctx, "")), session.ErrInvalidID},
		{"Exists/emptyID", second(r.Exists(ctx, "", "k")), session.ErrInvalidID},
		{"Evict/emptyKey", second(r.Evict(ctx, "s", "a", "")), session.ErrInvalidKey},
		{"Clear/emptyID", second(r.Clear(ctx, "")), session.ErrInvalidID},
		{"SaveProp/tooLarge", r.SaveProp(ctx, "s", "p", big), session.ErrTooLarge},
		{"GetProp/emptyKey", second(r.GetProp(ctx, "s", "")), session.ErrInvalidKey},
		{"Props/emptyID", second(r.Props(ctx, "")), session.ErrInvalidID},
		{"EvictProp/emptyKey", second(r.EvictProp(ctx, "s", "")), session.ErrInvalidKey},
		{"SetExpiry/emptyID", r.SetExpiry(ctx, "", session.Expiry{}), session.ErrInvalidID},
		{"TTL/emptyID", second(r.TTL(ctx, "")), session.ErrInvalidID},
		{"SaveGlobal/emptyKey", r.SaveGlobal(ctx, "", []byte("1")), session.ErrInvalidKey},
		{"SaveGlobal/tooLarge", r.SaveGlobal(ctx, "g", big), session.ErrTooLarge},
		{"GetGlobal/emptyKey", second(r.GetGlobal(ctx, "")), session.ErrInvalidKey},
		{"EvictGlobal/emptyKey", second(r.EvictGlobal(ctx, "")), session.ErrInvalidKey},
		// Nothing to send: no error, no round trip.
		{"Save/noFields", second(r.Save(ctx, "s")), nil},
		{"Evict/noKeys", second(r.Evict(ctx, "s")), nil},
	}
	for _, c := range checks {
		if !errors.Is(c.err, c.want) || (c.want == nil && c.err != nil) {
			t.Errorf("%s: got %v, want %v", c.name, c.err, c.want)
		}
	}
	// A valid call does reach for the network and reports it unavailable.
	if _, err := r.Get(ctx, "s", "k"); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("Get on a dead address: got %v, want ErrUnavailable", err)
	}
}

func second[T any](_ T, err error) error { return err }

// TestServerErrorsMapped drives replies of a real server that the client
// cannot foresee: a key holding a string, a value over the server's limit.
func TestServerErrorsMapped(t *testing.T) {
	ts := startServer(t, realEnv(), func(c *server.Config) { c.MaxValueSize = 1024 })
	r := newTestRemote(t, ts.addr, nil)
	ctx := context.Background()

	rdb := redis.NewClient(&redis.Options{Addr: ts.addr})
	defer rdb.Close()
	if err := rdb.Set(ctx, "lock:u1", "token", 0).Err(); err != nil {
		t.Fatalf("SET through go-redis: %v", err)
	}
	if _, err := r.Get(ctx, "lock:u1", "k"); !errors.Is(err, session.ErrWrongType) {
		t.Errorf("Get on a string key: got %v, want ErrWrongType", err)
	}
	if _, err := r.Save(ctx, "lock:u1", session.Field{Key: "k", Value: []byte("1")}); !errors.Is(err, session.ErrWrongType) {
		t.Errorf("Save on a string key: got %v, want ErrWrongType", err)
	}
	if _, err := r.GetAll(ctx, "lock:u1"); !errors.Is(err, session.ErrWrongType) {
		t.Errorf("GetAll on a string key: got %v, want ErrWrongType", err)
	}
	big := bytes.Repeat([]byte("v"), 2048)
	if _, err := r.Save(ctx, "s1", session.Field{Key: "k", Value: big}); !errors.Is(err, session.ErrTooLarge) {
		t.Errorf("Save over the server's limit: got %v, want ErrTooLarge", err)
	}
	if err := r.SaveProp(ctx, "s1", "p", big); !errors.Is(err, session.ErrTooLarge) {
		t.Errorf("SaveProp over the server's limit: got %v, want ErrTooLarge", err)
	}
	// The connection survives an error reply.
	if _, err := r.Save(ctx, "s1", session.Field{Key: "k", Value: []byte(`"ok"`)}); err != nil {
		t.Fatalf("Save after an error reply: %v", err)
	}
	got, err := r.Get(ctx, "s1", "k")
	if err != nil || string(got) != `"ok"` {
		t.Errorf("Get = %q, %v; want \"ok\"", got, err)
	}
}

// TestOneRoundTripPerCall counts the commands the server executed.
func TestOneRoundTripPerCall(t *testing.T) {
	ts := startServer(t, realEnv(), nil)
	p := startProxy(t, ts.addr, nil)
	r := newTestRemote(t, p.addr, nil)
	ctx := context.Background()
	if err := r.Ping(ctx); err != nil { // open the connection first
		t.Fatal(err)
	}
	calls := []struct {
		name string
		cmd  string
		call func() error
	}{
		{"Save", "hset", func() error {
			return second(r.Save(ctx, "s", session.Field{Key: "a", Value: []byte("1")}, session.Field{Key: "b", Value: []byte("2")}))
		}},
		{"Get", "hget", func() error { return second(r.Get(ctx, "s", "a")) }},
		{"GetAll", "hgetall", func() error { return second(r.GetAll(ctx, "s")) }},
		{"Exists", "hexists", func() error { return second(r.Exists(ctx, "s", "a")) }},
		{"Evict", "hdel", func() error { return second(r.Evict(ctx, "s", "a", "zz")) }},
		{"SaveProp", "session.propset", func() error { return r.SaveProp(ctx, "s", "p", []byte("1")) }},
		{"GetProp", "session.propget", func() error { return second(r.GetProp(ctx, "s", "p")) }},
		{"Props", "session.props", func() error { return second(r.Props(ctx, "s")) }},
		{"EvictProp", "session.propdel", func() error { return second(r.EvictProp(ctx, "s", "p")) }},
		{"SetExpiry", "session.expiry", func() error { return r.SetExpiry(ctx, "s", session.Expiry{Idle: time.Hour}) }},
		{"TTL", "pttl", func() error { return second(r.TTL(ctx, "s")) }},
		{"Clear", "session.clear", func() error { return second(r.Clear(ctx, "s", "b")) }},
		{"SaveGlobal", "global.set", func() error { return r.SaveGlobal(ctx, "g", []byte("1")) }},
		{"GetGlobal", "global.get", func() error { return second(r.GetGlobal(ctx, "g")) }},
		{"Globals", "global.all", func() error { return second(r.Globals(ctx)) }},
		{"EvictGlobal", "global.del", func() error { return second(r.EvictGlobal(ctx, "g")) }},
	}
	for _, c := range calls {
		before := p.commands()
		if err := c.call(); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got := p.commands()[len(before):]
		if len(got) != 1 || got[0] != c.cmd {
			t.Errorf("%s sent %q, want exactly [%s]", c.name, got, c.cmd)
		}
	}
}

// TestRetryPolicy checks that a read is retried after its connection dies
// mid-request, while a write, which may have been applied, is not.
func TestRetryPolicy(t *testing.T) {
	ts := startServer(t, realEnv(), nil)
	var kill atomic.Value // the command name the proxy kills connections on
	kill.Store("")
	p := startProxy(t, ts.addr, func(cmd string) bool { return cmd == kill.Load().(string) })
	r := newTestRemote(t, p.addr, func(c *RemoteConfig) {
		c.MaxRetries = 2
		c.MinRetryBackoff = time.Millisecond
		c.MaxRetryBackoff = 2 * time.Millisecond
	})
	ctx := context.Background()

	count := func(name string) (n int) {
		for _, c := range p.commands() {
			if c == name {
				n++
			}
		}
		return n
	}
	kill.Store("hget")
	if _, err := r.Get(ctx, "s", "k"); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("Get through a dying connection: got %v, want ErrUnavailable", err)
	}
	if n := count("hget"); n != 3 {
		t.Errorf("HGET sent %d times, want 3 (1 + MaxRetries)", n)
	}
	kill.Store("hset")
	if _, err := r.Save(ctx, "s", session.Field{Key: "k", Value: []byte("1")}); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("Save through a dying connection: got %v, want ErrUnavailable", err)
	}
	if n := count("hset"); n != 1 {
		t.Errorf("HSET sent %d times, want 1: a write that may have been applied must not be resent", n)
	}
	kill.Store("")
	if _, err := r.Save(ctx, "s", session.Field{Key: "k", Value: []byte("1")}); err != nil {
		t.Errorf("Save once the proxy behaves: %v", err)
	}
}

// TestFailoverDial checks that a dead seed address is skipped.
func TestFailoverDial(t *testing.T) {
	ts := startServer(t, realEnv(), nil)
	r := newTestRemote(t, deadAddr(t), func(c *RemoteConfig) {
		c.Addrs = []string{ts.addr}
		c.PoolSize = 2
	})
	ctx := context.Background()
	for i := range 20 {
		id := fmt.Sprintf("s%d", i)
		if _, err := r.Save(ctx, id, session.Field{Key: "k", Value: []byte("1")}); err != nil {
			t.Fatalf("Save with one dead seed: %v", err)
		}
	}
}

// TestReadTimeout checks that a server that never answers gives
// ErrUnavailable within the configured timeouts.
func TestReadTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() { // accept and stay silent
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	r := newTestRemote(t, l.Addr().String(), func(c *RemoteConfig) {
		c.ReadTimeout = 50 * time.Millisecond
		c.MaxRetries = -1
	})
	start := time.Now()
	_, err = r.Get(context.Background(), "s", "k")
	if !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("Get from a silent server: got %v, want ErrUnavailable", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Get took %v, want about the 50 ms read timeout", el)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	r2 := newTestRemote(t, l.Addr().String(), func(c *RemoteConfig) { c.ReadTimeout = time.Minute; c.MaxRetries = -1 })
	start = time.Now()
	if _, err := r2.Get(ctx, "s", "k"); !errors.Is(err, session.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get with a 20 ms ctx deadline: got %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Get took %v despite its ctx deadline of 20 ms", el)
	}
}

func TestClose(t *testing.T) {
	ts := startServer(t, realEnv(), nil)
	r := newTestRemote(t, ts.addr, nil)
	ctx := context.Background()
	if _, err := r.Save(ctx, "s", session.Field{Key: "k", Value: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 { // calls racing Close must fail cleanly
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if _, err := r.Get(ctx, "s", "k"); err != nil && !errors.Is(err, session.ErrClosed) && !errors.Is(err, session.ErrUnavailable) {
					t.Errorf("Get racing Close: %v", err)
					return
				}
			}
		}()
	}
	if err := r.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	wg.Wait()
	checks := map[string]error{
		"Save":        second(r.Save(ctx, "s", session.Field{Key: "k", Value: []byte("1")})),
		"Save/none":   second(r.Save(ctx, "s")),
		"Get":         second(r.Get(ctx, "s", "k")),
		"GetAll":      second(r.GetAll(ctx, "s")),
		"Exists":      second(r.Exists(ctx, "s", "k")),
		"Evict":       second(r.Evict(ctx, "s", "k")),
		"Clear":       second(r.Clear(ctx, "s")),
		"SaveProp":    r.SaveProp(ctx, "s", "p", nil),
		"GetProp":     second(r.GetProp(ctx, "s", "p")),
		"Props":       second(r.Props(ctx, "s")),
		"EvictProp":   second(r.EvictProp(ctx, "s", "p")),
		"SetExpiry":   r.SetExpiry(ctx, "s", session.Expiry{}),
		"TTL":         second(r.TTL(ctx, "s")),
		"SaveGlobal":  r.SaveGlobal(ctx, "g", nil),
		"GetGlobal":   second(r.GetGlobal(ctx, "g")),
		"EvictGlobal": second(r.EvictGlobal(ctx, "g")),
		"Globals":     second(r.Globals(ctx)),
		"Ping":        r.Ping(ctx),
	}
	for name, err := range checks {
		if !errors.Is(err, session.ErrClosed) {
			t.Errorf("%s after Close: got %v, want ErrClosed", name, err)
		}
	}
}

func TestDialManager(t *testing.T) {
	ts := startServer(t, realEnv(), func(c *server.Config) { c.Password = "s3cret" })
	ctx := context.Background()

	if _, err := DialManager(ctx, RemoteConfig{Addr: ts.addr, Password: "wrong", Logger: testlog.New(t)}); err == nil {
		t.Error("DialManager with a wrong password succeeded")
	}
	if _, err := DialManager(ctx, RemoteConfig{Addr: deadAddr(t), MaxRetries: -1, Logger: testlog.New(t)}); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("DialManager to a dead address: got %v, want ErrUnavailable", err)
	}
	m, err := DialManager(ctx, RemoteConfig{Addr: ts.addr, Password: "s3cret", Logger: testlog.New(t)})
	if err != nil {
		t.Fatalf("DialManager: %v", err)
	}
	defer m.Close(ctx)
	type auth struct {
		Token   string `json:"token"`
		Expires int64  `json:"expires"`
	}
	h := m.Session("263771234567")
	if err := h.Save(ctx, "auth", auth{Token: "t", Expires: 42}); err != nil {
		t.Fatal(err)
	}
	got, err := session.HandleGet[auth](ctx, h, "auth")
	if err != nil || got != (auth{Token: "t", Expires: 42}) {
		t.Errorf("HandleGet = %+v, %v", got, err)
	}
}

// TestSetExpiryWire checks the millisecond rounding of SESSION.EXPIRY and
// the PTTL mapping against the server's clock.
func TestSetExpiryWire(t *testing.T) {
	clock := sessiontest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	ts := startServer(t, sessiontest.Env{Now: clock.Now, Advance: clock.Advance, DefaultIdle: 30 * time.Minute}, nil)
	r := newTestRemote(t, ts.addr, nil)
	ctx := context.Background()
	if err := r.SetExpiry(ctx, "missing", session.Expiry{Idle: time.Minute}); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("SetExpiry of a missing session: got %v, want ErrNotFound", err)
	}
	if _, err := r.Save(ctx, "s", session.Field{Key: "k", Value: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	ttl, err := r.TTL(ctx, "s")
	if err != nil || ttl != 30*time.Minute {
		t.Errorf("TTL of a new session = %v, %v; want 30m", ttl, err)
	}
	if err := r.SetExpiry(ctx, "s", session.Expiry{Idle: 1500 * time.Microsecond}); err != nil {
		t.Fatal(err)
	}
	if ttl, err := r.TTL(ctx, "s"); err != nil || ttl != 2*time.Millisecond {
		t.Errorf("TTL after an idle of 1.5 ms = %v, %v; want 2ms (rounded up, never to 0 = keep)", ttl, err)
	}
	if err := r.SetExpiry(ctx, "s", session.Expiry{Idle: session.NoExpiry}); err != nil {
		t.Fatal(err)
	}
	if ttl, err := r.TTL(ctx, "s"); err != nil || ttl != session.NoExpiry {
		t.Errorf("TTL after NoExpiry = %v, %v; want NoExpiry", ttl, err)
	}
	if err := r.SetExpiry(ctx, "s", session.Expiry{TTL: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(4 * time.Second)
	if ttl, err := r.TTL(ctx, "s"); err != nil || ttl != 6*time.Second {
		t.Errorf("TTL 4 s into a 10 s deadline = %v, %v; want 6s", ttl, err)
	}
	clock.Advance(6 * time.Second)
	if _, err := r.TTL(ctx, "s"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("TTL after the deadline: got %v, want ErrNotFound", err)
	}
}

// TestPoolUnderLoad runs many goroutines over a small pool.
func TestPoolUnderLoad(t *testing.T) {
	ts := startServer(t, realEnv(), nil)
	r := newTestRemote(t, ts.addr, func(c *RemoteConfig) { c.PoolSize = 3 })
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("user%d", g)
			for i := range 100 {
				v := []byte(fmt.Sprint(i))
				if _, err := r.Save(ctx, id, session.Field{Key: "n", Value: v}); err != nil {
					t.Errorf("Save: %v", err)
					return
				}
				got, err := r.Get(ctx, id, "n")
				if err != nil || !bytes.Equal(got, v) {
					t.Errorf("Get = %q, %v; want %q", got, err, v)
					return
				}
			}
		}()
	}
	wg.Wait()
}
