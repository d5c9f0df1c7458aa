package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// result is the outcome of one request.
type result struct {
	f   Frame
	err error
}

// conn is one multiplexed connection, dialed or accepted. Either side may
// send requests; in practice the dialer does.
type conn struct {
	t      *Transport
	nc     net.Conn
	peer   string // the dialed address, or the remote address when accepted
	key    string // dialed: the address and lane it is kept under
	dialed bool
	nextID atomic.Uint64

	mu      sync.Mutex // guards out, pending and err
	out     []byte     // encoded frames waiting for the writer
	pending map[uint64]chan result
	err     error // why the connection closed; nil while open

	wake     chan struct{} // the writer has work (capacity 1)
	done     chan struct{} // closed when the connection closes
	handlers chan struct{} // semaphore of handler goroutines (busy or idle)
	work     chan Frame    // requests for idle handler goroutines
}

func newConn(t *Transport, nc net.Conn, peer string, dialed bool) *conn {
	return &conn{
		t:        t,
		nc:       nc,
		peer:     peer,
		dialed:   dialed,
		pending:  make(map[uint64]chan result),
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		handlers: make(chan struct{}, t.cfg.MaxHandlers),
		work:     make(chan Frame),
	}
}

// start runs the connection's reader and writer goroutines.
func (c *conn) start() {
	c.t.goFunc(c.readLoop)
	c.t.goFunc(c.writeLoop)
}

// close closes the connection once, failing every pending request with err.
func (c *conn) close(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	pending := c.pending
	c.pending = nil
	c.out = nil
	close(c.done)
	c.mu.Unlock()
	_ = c.nc.Close()
	for _, ch := range pending {
		ch <- result{err: err}
	}
	c.t.forget(c)
}

// closed reports whether the connection is closed.
func (c *conn) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// enqueue appends f to the writer's queue and wakes the writer.
func (c *conn) enqueue(f Frame) error {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	if len(c.out)+HeaderSize+4+len(f.Payload) > c.t.cfg.MaxQueueBytes {
		c.mu.Unlock()
		return fmt.Errorf("%w: send queue to %s is full (%d bytes)", session.ErrUnavailable, c.peer, c.t.cfg.MaxQueueBytes)
	}
	c.out = AppendFrame(c.out, f)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// writeLoop writes queued frames, one write per batch: whatever accumulated
// while the previous batch was being written goes out in the next one, so
// the socket is flushed exactly when the queue drains.
func (c *conn) writeLoop() {
	var buf []byte
	var deadline time.Time // the socket's write deadline, refreshed lazily
	for {
		select {
		case <-c.done:
			return
		case <-c.wake:
		}
		for {
			c.mu.Lock()
			buf, c.out = c.out, buf[:0]
			c.mu.Unlock()
			if len(buf) == 0 {
				break
			}
			if c.dialed && c.t.blocked(c.peer) {
				c.close(fmt.Errorf("%w: network to %s is cut (test hook)", session.ErrUnavailable, c.peer))
				return
			}
			// Refresh the deadline only when half of it is used up: a timer
			// update per batch costs more than the batch's syscall.
			if now := time.Now(); deadline.Sub(now) < c.t.cfg.WriteTimeout/2 {
				deadline = now.Add(c.t.cfg.WriteTimeout)
				_ = c.nc.SetWriteDeadline(deadline)
			}
			if _, err := c.nc.Write(buf); err != nil {
				c.close(fmt.Errorf("%w: write to %s: %w", session.ErrUnavailable, c.peer, err))
				return
			}
			if cap(buf) > 1<<20 {
				buf = nil // do not keep a large frame's buffer around
			}
		}
	}
}

// readLoop reads frames: responses go to their pending request, requests to
// their handler.
func (c *conn) readLoop() {
	br := bufio.NewReaderSize(c.nc, 64<<10)
	for {
		f, err := ReadFrame(br, c.t.cfg.MaxFrameSize)
		if err != nil {
			if errors.Is(err, ErrProtocol) || errors.Is(err, ErrFrameTooLarge) {
				c.t.log.Warn("transport: closing connection after a bad frame", "peer", c.peer, "err", err)
			} else if !c.closed() && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.t.log.Debug("transport: connection read failed", "peer", c.peer, "err", err)
			}
			c.close(fmt.Errorf("%w: connection to %s: %w", session.ErrUnavailable, c.peer, err))
			return
		}
		switch f.Kind {
		case KindRequest:
			select {
			case c.work <- f: // an idle handler goroutine takes it
				continue
			default:
			}
			select {
			case c.work <- f:
			case c.handlers <- struct{}{}: // room for one more handler goroutine
				c.t.goFunc(func() { c.handle(f) })
			case <-c.done:
				return
			}
		case KindResponse, KindError:
			c.mu.Lock()
			ch := c.pending[f.ID]
			delete(c.pending, f.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- result{f: f}
			}
		}
	}
}

// handlerIdle is how long a handler goroutine waits for another request
// before it exits. Reusing goroutines keeps their grown stacks: a new
// goroutine per request paid for growing its stack on every deep handler.
const handlerIdle = time.Second

// handle serves f, then further requests, until it has been idle for
// handlerIdle or the connection closes.
func (c *conn) handle(f Frame) {
	defer func() { <-c.handlers }()
	idle := time.NewTimer(handlerIdle)
	defer idle.Stop()
	for {
		c.serve(f)
		if !idle.Stop() {
			select {
			case <-idle.C:
			default:
			}
		}
		idle.Reset(handlerIdle)
		select {
		case f = <-c.work:
		case <-idle.C:
			return
		case <-c.done:
			return
		}
	}
}

// serve runs the handler of one request and queues its response.
func (c *conn) serve(f Frame) {
	ctx := c.t.ctx
	if f.TimeoutMillis > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(f.TimeoutMillis)*time.Millisecond)
		defer cancel()
	}
	resp := Frame{Kind: KindResponse, Type: f.Type, ID: f.ID}
	var err error
	if h := c.t.handler(f.Type); h == nil {
		err = fmt.Errorf("%w %d", ErrNoHandler, f.Type)
	} else {
		resp.Payload, err = c.run(ctx, h, f)
	}
	if err == nil && len(resp.Payload)+HeaderSize > c.t.cfg.MaxFrameSize {
		err = fmt.Errorf("%w: response of %d bytes, limit %d", ErrFrameTooLarge, len(resp.Payload)+HeaderSize, c.t.cfg.MaxFrameSize)
	}
	if err != nil {
		resp.Kind = KindError
		resp.Payload = errorPayload(codeOf(err), err.Error())
	}
	_ = c.enqueue(resp) // fails only when the connection is closed
}

// run runs a handler, turning a panic into an error for the caller (and a
// log line) instead of a crash of the node.
func (c *conn) run(ctx context.Context, h Handler, f Frame) (resp []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.t.log.Error("transport: handler panicked", "type", f.Type, "peer", c.peer, "panic", r, "stack", string(debug.Stack()))
			resp, err = nil, fmt.Errorf("transport: handler for type %d failed: %v", f.Type, r)
		}
	}()
	return h(ctx, f.Payload)
}

// call sends one request and waits for its response.
func (c *conn) call(ctx context.Context, typ uint16, req []byte) ([]byte, error) {
	id := c.nextID.Add(1)
	ch := make(chan result, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.pending[id] = ch
	c.mu.Unlock()

	var timeout uint32
	if dl, ok := ctx.Deadline(); ok {
		timeout = uint32(max(1, min(time.Until(dl).Milliseconds(), 1<<31)))
	}
	if err := c.enqueue(Frame{Kind: KindRequest, Type: typ, ID: id, TimeoutMillis: timeout, Payload: req}); err != nil {
		c.unregister(id)
		return nil, err
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		if r.f.Kind == KindError {
			code, msg := parseErrorPayload(r.f.Payload)
			return nil, &RemoteError{Peer: c.peer, Code: code, Message: msg}
		}
		return r.f.Payload, nil
	case <-ctx.Done():
		c.unregister(id)
		return nil, fmt.Errorf("%w: request to %s (type %d) got no response: %w", session.ErrUnavailable, c.peer, typ, ctx.Err())
	}
}

func (c *conn) unregister(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}
