package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/loglimit"
	"github.com/sessiongrid/sessiongrid/internal/shutdown"
	"github.com/sessiongrid/sessiongrid/session"
)

// Handler serves one request of a registered message type.
//
// Concurrency: handlers run on their own goroutine, many at once (up to
// Config.MaxHandlers per connection). ctx carries the caller's deadline and
// is cancelled when the Transport closes. The handler may keep req; the
// transport does not reuse it. The returned error travels to the caller as a
// RemoteError whose code comes from the sentinel it wraps.
type Handler func(ctx context.Context, req []byte) ([]byte, error)

// Transport listens for peers, keeps one persistent connection per peer it
// calls, and dispatches incoming requests to handlers.
type Transport struct {
	cfg    Config
	log    *slog.Logger
	ln     net.Listener
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// refusals rate-limits the warnings about refused connections (junk on
	// the port, scanners, members with another secret).
	refusals *loglimit.Limiter

	hmu      sync.RWMutex // guards handlers
	handlers map[uint16]Handler

	mu          sync.Mutex // guards closed, conns, dialing, all and handshaking
	closed      bool
	conns       map[string]*conn      // dialed connections by peer address
	dialing     map[string]*dialState // dials in progress by peer address
	all         map[*conn]struct{}    // every open connection, dialed or accepted
	handshaking map[net.Conn]struct{} // accepted connections still in the handshake
}

// dialState lets concurrent callers of one peer share one dial.
type dialState struct {
	done chan struct{}
	c    *conn
	err  error
}

// New starts a Transport: it listens (or takes cfg.Listener) and accepts
// peers until Close.
func New(cfg Config) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ln := cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", cfg.BindAddr); err != nil {
			return nil, fmt.Errorf("transport: listen on %s: %w", cfg.BindAddr, err)
		}
	}
	if cfg.Advertise == "" {
		cfg.Advertise = ln.Addr().String()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &Transport{
		cfg:      cfg,
		log:      log.With("component", "transport"),
		ln:       ln,
		ctx:      ctx,
		cancel:   cancel,
		handlers: make(map[uint16]Handler),
		conns:    make(map[string]*conn),
		dialing:  make(map[string]*dialState),
		all:      make(map[*conn]struct{}),

		handshaking: make(map[net.Conn]struct{}),
		refusals:    loglimit.New(refusalLogBurst, time.Minute),
	}
	t.goFunc(t.acceptLoop)
	return t, nil
}

// Addr returns the address peers should dial (Config.Advertise, or the
// listener's address).
func (t *Transport) Addr() string { return t.cfg.Advertise }

// Handle registers h for message type typ, replacing any previous handler.
// Register handlers before peers may send that type: a request of an
// unregistered type fails with ErrNoHandler.
func (t *Transport) Handle(typ uint16, h Handler) {
	t.hmu.Lock()
	defer t.hmu.Unlock()
	t.handlers[typ] = h
}

func (t *Transport) handler(typ uint16) Handler {
	t.hmu.RLock()
	defer t.hmu.RUnlock()
	return t.handlers[typ]
}

// goFunc runs f on a goroutine Close waits for.
func (t *Transport) goFunc(f func()) {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		f()
	}()
}

func (t *Transport) blocked(addr string) bool {
	return t.cfg.Blocked != nil && t.cfg.Blocked(addr)
}

// Call sends req as a request of type typ to the peer at addr and returns
// its response. Without a deadline on ctx, Config.CallTimeout applies.
//
// Errors: a failure to reach the peer or a missing response wraps
// session.ErrUnavailable (the peer may have applied the request), and also
// ErrConnect when the request was never sent; a peer of
// another protocol or with another secret also wraps ErrProtocol or ErrAuth;
// an error returned by the peer's handler is a *RemoteError that unwraps to
// its sentinel.
func (t *Transport) Call(ctx context.Context, addr string, typ uint16, req []byte) ([]byte, error) {
	return t.CallLane(ctx, addr, 0, typ, req)
}

// Lanes of connections to one peer. Each lane is its own connection, with
// its own handler bound on the peer, so requests of one lane never wait
// behind those of another: a handler of lane 0 that waits for a reply on
// lane 1 cannot starve it.
const (
	LaneDefault = 0 // requests, forwarded operations, migration
	LaneBackup  = 1 // replication to backups: handlers never call back
)

// CallLane is Call on one lane of connections to addr.
func (t *Transport) CallLane(ctx context.Context, addr string, lane int, typ uint16, req []byte) ([]byte, error) {
	key := addr
	if lane != 0 {
		key = fmt.Sprintf("%s#%d", addr, lane)
	}
	if len(req)+HeaderSize > t.cfg.MaxFrameSize {
		return nil, fmt.Errorf("%w: request of %d bytes, limit %d", ErrFrameTooLarge, len(req)+HeaderSize, t.cfg.MaxFrameSize)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.cfg.CallTimeout)
		defer cancel()
	}
	if t.blocked(addr) {
		t.mu.Lock()
		c := t.conns[key]
		t.mu.Unlock()
		if c != nil {
			c.close(fmt.Errorf("%w: network to %s is cut (test hook)", session.ErrUnavailable, addr))
		}
		return nil, fmt.Errorf("%w: %w: network to %s is cut (test hook)", session.ErrUnavailable, ErrConnect, addr)
	}
	c, err := t.conn(ctx, key, addr)
	if err != nil {
		return nil, err
	}
	return c.call(ctx, typ, req)
}

// conn returns the open connection of key (addr and lane), dialing addr if
// needed.
func (t *Transport) conn(ctx context.Context, key, addr string) (*conn, error) {
	for {
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			return nil, fmt.Errorf("transport: %w", session.ErrClosed)
		}
		if c := t.conns[key]; c != nil && !c.closed() {
			t.mu.Unlock()
			return c, nil
		}
		d := t.dialing[key]
		if d == nil {
			d = &dialState{done: make(chan struct{})}
			t.dialing[key] = d
			t.mu.Unlock()
			d.c, d.err = t.dial(ctx, key, addr)
			t.mu.Lock()
			delete(t.dialing, key)
			t.mu.Unlock()
			close(d.done)
			return d.c, d.err
		}
		t.mu.Unlock()
		select {
		case <-d.done:
			if d.err == nil {
				return d.c, nil
			}
			// The other caller's dial failed (maybe on its own short
			// deadline): try again with ours unless it is over.
			if ctx.Err() != nil {
				return nil, d.err
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w: dial %s: %w", session.ErrUnavailable, ErrConnect, addr, ctx.Err())
		}
	}
}

// dial connects to addr and runs the handshake.
func (t *Transport) dial(ctx context.Context, key, addr string) (*conn, error) {
	d := net.Dialer{Timeout: t.cfg.DialTimeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w: dial %s: %w", session.ErrUnavailable, ErrConnect, addr, err)
	}
	deadline := time.Now().Add(t.cfg.HandshakeTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = nc.SetDeadline(deadline)
	raw := nc
	if nc, err = t.Authenticator().client(ctx, raw, ChannelTransport); err != nil {
		_ = raw.Close()
		t.log.Warn("transport: handshake with peer failed", "peer", addr, "err", err)
		return nil, fmt.Errorf("%w: %w: handshake with %s: %w", session.ErrUnavailable, ErrConnect, addr, err)
	}
	_ = nc.SetDeadline(time.Time{})
	c := newConn(t, nc, addr, true)
	c.key = key
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		_ = nc.Close()
		return nil, fmt.Errorf("transport: %w", session.ErrClosed)
	}
	t.conns[key] = c
	t.all[c] = struct{}{}
	c.start()
	t.mu.Unlock()
	return c, nil
}

// refusalLogBurst bounds the "refused a connection" warnings per minute:
// 2,000 junk connections must not write 2,000 lines.
const refusalLogBurst = 10

// acceptLoop accepts peers until the listener closes.
func (t *Transport) acceptLoop() {
	var backoff time.Duration
	for {
		nc, err := t.ln.Accept()
		if err != nil {
			if t.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			t.log.Warn("transport: accept failed", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-t.ctx.Done():
				return
			}
			continue
		}
		backoff = 0
		t.goFunc(func() { t.accept(nc) })
	}
}

// accept runs the listener's handshake and starts the connection.
func (t *Transport) accept(nc net.Conn) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		_ = nc.Close()
		return
	}
	t.handshaking[nc] = struct{}{} // so that Close can interrupt the handshake
	t.mu.Unlock()
	_ = nc.SetDeadline(time.Now().Add(t.cfg.HandshakeTimeout))
	raw := nc
	nc, err := t.Authenticator().server(t.ctx, raw, ChannelTransport, WrongPortReply)
	t.mu.Lock()
	delete(t.handshaking, raw)
	t.mu.Unlock()
	if err != nil {
		if n, ok := t.refusals.Allow(time.Now()); ok {
			t.log.Warn("transport: refused a connection", "remote", raw.RemoteAddr().String(), "err", err,
				"refusals_not_logged", n)
		}
		_ = raw.Close()
		return
	}
	_ = nc.SetDeadline(time.Time{})
	c := newConn(t, nc, nc.RemoteAddr().String(), false)
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		_ = nc.Close()
		return
	}
	t.all[c] = struct{}{}
	c.start()
	t.mu.Unlock()
}

// forget removes a closed connection from the maps.
func (t *Transport) forget(c *conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.all, c)
	if c.dialed && t.conns[c.key] == c {
		delete(t.conns, c.key)
	}
}

// Close stops accepting, closes every connection (pending calls fail with
// session.ErrUnavailable), cancels running handlers and waits for every
// goroutine of the transport, up to ctx's deadline. It is idempotent.
func (t *Transport) Close(ctx context.Context) error {
	t.mu.Lock()
	already := t.closed
	t.closed = true
	conns := make([]*conn, 0, len(t.all))
	for c := range t.all {
		conns = append(conns, c)
	}
	for nc := range t.handshaking {
		_ = nc.Close()
	}
	t.mu.Unlock()
	if !already {
		t.cancel()
		_ = t.ln.Close()
	}
	for _, c := range conns {
		c.close(fmt.Errorf("transport: %w", session.ErrClosed))
	}
	if err := shutdown.Wait(ctx, &t.wg); err != nil {
		return fmt.Errorf("transport: close: %w", err)
	}
	return nil
}
