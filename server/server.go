package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/loglimit"
	"github.com/sessiongrid/sessiongrid/internal/shutdown"
	"github.com/sessiongrid/sessiongrid/session"
)

// Backend is the keyspace a Server serves: sessions (as Redis hashes, with
// props and globals), plain strings, and the whole keyspace for DEL, TYPE,
// SCAN and the like. Every method is called concurrently from many
// connections. The byte slices the server passes point into its input
// buffer and are reused once the call returns (the Store contract says
// they are copied); the strings it passes are freshly allocated, so the
// backend may keep them.
type Backend interface {
	session.Store
	session.Strings
	session.Keyspace
}

// Borrower is the optional capability of a Backend whose Save, Get and
// GetProp keep none of the strings they are given once they return (they
// copy what they store, as the Store contract has them do for byte
// slices); an error they return may refer to them until the server has
// formatted it. The server then passes strings that alias its input
// buffer, and HSET and HGET allocate nothing for the id and keys: at a
// million sessions, that garbage was the whole growth of the heap when
// every session is overwritten.
type Borrower interface {
	// BorrowsStrings is a marker; it is never called.
	BorrowsStrings()
}

// valueAppender is the optional capability of a Backend that appends a
// field's value to a buffer instead of returning a copy of its own (HGET
// then allocates nothing). Its errors are Get's. The memory store has it.
type valueAppender interface {
	AppendValue(dst []byte, id, key string) ([]byte, error)
}

// statser is the optional capability of a Backend that reports its
// counters (INFO keyspace/memory and the metrics use it).
type statser interface{ Stats() session.Stats }

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown.
var ErrServerClosed = errors.New("server: closed")

// Server is a RESP server over a Backend. Create it with New, run it with
// Serve (or ListenAndServe) and stop it with Shutdown. It never closes the
// Backend: its owner does, after Shutdown.
type Server struct {
	cfg     Config
	backend Backend
	stats   statser // nil when the backend has no Stats
	borrows bool    // the backend is a Borrower
	// appender is the backend when it appends values (HGET); nil otherwise.
	appender valueAppender
	// forwarder batches pipelined requests across the grid; nil when the
	// backend is not a Forwarder.
	forwarder Forwarder
	// scripts is the Lua scripting state (cache, gate, limits).
	scripts *scripting
	slowlog *slowLog

	// hub holds this member's Pub/Sub subscriptions; bcast carries
	// published messages to the other members (nil when standalone).
	hub      *hub
	bcast    Broadcaster
	notifier notifier
	unwatch  func() // stops the backend's session.Watcher callback

	// versions numbers key writes for WATCH; watcher is the backend that
	// numbers them itself (a grid member), nil on a standalone node.
	versions *keyVersions
	watcher  WriteWatcher
	gateNext atomic.Uint64 // stripe of the next gateRead

	// securityLog rate-limits the warnings about attacks (cross-protocol
	// requests, failed AUTH).
	securityLog *loglimit.Limiter
	// clientLog rate-limits the warnings about clients closed for their
	// output (write timeout, output limit).
	clientLog *loglimit.Limiter

	log     *slog.Logger
	table   [numCommands]command
	metrics *metrics
	started time.Time

	// ctx is passed to every backend call; cancelled when Shutdown gives
	// up waiting for in-flight requests.
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex // guards the fields below
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closing   bool
	addr      net.Addr
	closed    connTotals // counters of connections that have closed

	wg     sync.WaitGroup // one per connection goroutine
	nextID atomic.Int64

	accepted atomic.Int64 // connections accepted, ever
	rejected atomic.Int64 // connections refused over MaxConnections
	// lastRejectLog rate-limits the max-clients warning (Unix nanoseconds).
	lastRejectLog atomic.Int64
}

// connTotals are the byte and command counters of closed connections.
type connTotals struct {
	in, out, commands int64
}

// New returns a Server over backend. It starts nothing: call Serve.
func New(cfg Config, backend Backend) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if backend == nil {
		return nil, errors.New("server: nil backend")
	}
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:       cfg,
		backend:   backend,
		log:       cfg.Logger,
		started:   time.Now(),
		ctx:       ctx,
		cancel:    cancel,
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*conn]struct{}),
	}
	s.scripts = newScripting()
	s.securityLog = loglimit.New(20, time.Minute)
	s.clientLog = loglimit.New(20, time.Minute)
	s.scripts.setLimits(s.cfg.ScriptTimeout, s.cfg.ScriptMaxMemory)
	if fw, ok := backend.(Forwarder); ok {
		s.forwarder = fw
	}
	s.versions = newKeyVersions()
	if ww, ok := backend.(WriteWatcher); ok {
		s.watcher = ww
		ww.WatchWrites(s.versions.written, s.gateRead)
	}
	if st, ok := backend.(statser); ok {
		s.stats = st
	}
	_, s.borrows = backend.(Borrower)
	s.appender, _ = backend.(valueAppender)
	s.slowlog = &slowLog{slower: cfg.SlowlogLogSlowerThan, maxLen: cfg.SlowlogMaxLen}
	s.table = newCommandTable()
	s.metrics = newMetrics(s)
	s.hub = newHub()
	flags, _ := ParseKeyspaceEvents(cfg.NotifyKeyspaceEvents) // validated
	s.notifier.flags.Store(int64(flags))
	if b, ok := backend.(Broadcaster); ok {
		s.bcast = b
		b.OnBroadcast(s.deliverRemote)
	}
	if w, ok := backend.(session.Watcher); ok {
		s.unwatch = w.Watch(s.storeEvent)
	}
	return s, nil
}

// Addr returns the address of the first listener Serve was given, nil
// before that.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// ListenAndServe listens on Config.Addr and serves until Shutdown.
func (s *Server) ListenAndServe() error {
	l, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("server: listen: %w", err)
	}
	return s.Serve(l)
}

// Serve accepts connections on l and serves each in its own goroutine
// until Shutdown, when it returns ErrServerClosed. It closes l.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	if s.addr == nil {
		s.addr = l.Addr()
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		l.Close()
	}()
	s.log.Info("serving RESP", "addr", l.Addr().String())

	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				// Out of file descriptors or a transient error: wait and retry.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed, retrying", "err", err, "retry_in", backoff)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("server: accept: %w", err)
		}
		backoff = 0
		s.accept(nc)
	}
}

// clock returns the monotonic time since New (never 0), for latencies.
func (s *Server) clock() time.Duration { return time.Since(s.started) + 1 }

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// errMaxClients is the reply to a connection over Config.MaxConnections.
const errMaxClients = "-ERR max number of clients reached\r\n"

// accept registers nc and starts its goroutine, or refuses it.
func (s *Server) accept(nc net.Conn) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if len(s.conns) >= s.cfg.MaxConnections {
		s.mu.Unlock()
		total := s.rejected.Add(1)
		if now, last := time.Now().UnixNano(), s.lastRejectLog.Load(); now-last > int64(time.Second) &&
			s.lastRejectLog.CompareAndSwap(last, now) {
			s.log.Warn("refusing clients: max number of clients reached (logged at most once a second)",
				"remote", nc.RemoteAddr().String(), "max_clients", s.cfg.MaxConnections, "rejected_total", total)
		}
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		nc.Write([]byte(errMaxClients))
		nc.Close()
		return
	}
	c := newConn(s, nc, s.nextID.Add(1))
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.accepted.Add(1)
	go c.serve()
}

// removeConn forgets c and keeps its counters.
func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.closed.in += c.inBytes.Load()
	s.closed.out += c.outBytes.Load()
	s.closed.commands += c.commands.Load()
	s.mu.Unlock()
}

// totals returns the byte and command counters of every connection, open
// or closed, and the number of open connections.
func (s *Server) totals() (t connTotals, open int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t = s.closed
	for c := range s.conns {
		t.in += c.inBytes.Load()
		t.out += c.outBytes.Load()
		t.commands += c.commands.Load()
	}
	return t, len(s.conns)
}

// Shutdown stops the server gracefully: it closes the listeners, lets
// every connection finish the requests it has received and flush their
// replies, then closes the connections. When ctx ends first, it cancels
// the requests still running, closes every connection at once and
// returns ctx's error. It does not close the Backend.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	first := !s.closing
	s.closing = true
	for l := range s.listeners {
		l.Close()
	}
	for c := range s.conns {
		c.stop()
	}
	s.mu.Unlock()
	s.scripts.stop(errScriptStopped) // a running script never holds up a shutdown
	if first && s.unwatch != nil {
		s.unwatch()
	}
	if first {
		s.log.Info("shutting down RESP server")
	}

	err := shutdown.Wait(ctx, &s.wg)
	s.cancel()
	if err == nil {
		return nil
	}
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return fmt.Errorf("server: shutdown: %w", err)
}

// serving reports whether the server accepts connections (for /readyz).
func (s *Server) serving() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closing && len(s.listeners) > 0
}
