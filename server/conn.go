package server

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// flushThreshold is the output size at which replies are written even
// while more requests are buffered (bounds memory for long pipelines).
const flushThreshold = 64 << 10

// conn is one client connection, served by one goroutine.
type conn struct {
	s   *Server
	nc  net.Conn
	id  int64
	rd  *reader
	out replies
	// ps is the connection's Pub/Sub side, set at its first (P)SUBSCRIBE;
	// from then on its writer sends every reply.
	ps *subscriber
	// ctx, when set, is the context of the backend calls of the commands
	// running now (a batch's or a script's, see Batcher); the server's
	// otherwise.
	ctx context.Context

	authed bool
	// forwarded marks the connection of a batch another member forwarded:
	// its scripts run here, never forwarded again.
	forwarded bool
	quit      bool        // close after flushing the replies
	closing   atomic.Bool // set by Shutdown: stop after the buffered requests

	authFails int           // failed authentications of the connection
	authDelay time.Duration // owed by failed AUTHs of a transaction

	tx txState // MULTI/WATCH state
	// gateHeld marks a connection running a transaction: it holds the
	// script gate already.
	gateHeld bool

	proto   atomic.Int32           // 2 or 3, read by CLIENT LIST
	name    atomic.Pointer[string] // CLIENT SETNAME, read by CLIENT LIST
	libName atomic.Pointer[string]
	libVer  atomic.Pointer[string]
	created time.Time
	lastCmd atomic.Int32 // index of the last command, for CLIENT LIST

	inBytes, outBytes, commands atomic.Int64

	deadline time.Time // read deadline in force when IdleTimeout > 0
	// lastDone is when the connection last completed a command (or
	// opened); progressed says commands completed since it was taken. The
	// idle deadline is lastDone + IdleTimeout.
	lastDone   time.Time
	progressed bool
	wdeadline  time.Time // write deadline in force when WriteTimeout > 0
	// mark is when the last command ended, or when the last read returned
	// (Server.clock).
	mark time.Duration
	// slice is when the connection's goroutine last started running
	// without waiting (see yieldAfterLongSlice).
	slice time.Duration

	// lastWrite is the key of the connection's last successful write
	// (WAIT asks about it).
	lastWrite []byte

	// Reused argument buffers of the hot paths, and HGET's value.
	fields []session.Field
	strs   []string
	value  []byte
}

// bctx returns the context of backend calls.
func (c *conn) bctx() context.Context {
	if c.ctx != nil {
		return c.ctx
	}
	return c.s.ctx
}

func newConn(s *Server, nc net.Conn, id int64) *conn {
	c := &conn{s: s, nc: nc, id: id, created: time.Now()}
	c.lastDone = c.created
	c.rd = newReader(countingReader{c}, s.cfg.MaxRequestBytes)
	c.authed = s.cfg.Password == ""
	c.rd.unauth = !c.authed
	c.lastCmd.Store(-1)
	c.proto.Store(2)
	c.tx.clear()
	return c
}

// countingReader counts the bytes read from the connection.
type countingReader struct{ c *conn }

func (r countingReader) Read(p []byte) (int, error) {
	n, err := r.c.nc.Read(p)
	r.c.inBytes.Add(int64(n))
	return n, err
}

// stop asks the connection to finish the requests it has received and
// close. Called by Shutdown with the server's lock held.
func (c *conn) stop() {
	c.closing.Store(true)
	c.nc.SetReadDeadline(time.Unix(1, 0)) // wakes a blocked read
}

// serve runs the connection until the client leaves, a protocol error,
// the idle timeout or Shutdown.
func (c *conn) serve() {
	defer c.s.wg.Done()
	defer c.s.removeConn(c)
	defer c.nc.Close()
	defer c.endPubsub()
	defer func() {
		if r := recover(); r != nil {
			c.s.log.Error("panic serving a client; connection closed",
				"remote", c.nc.RemoteAddr().String(), "panic", r, "stack", string(debug.Stack()))
		}
	}()
	if c.deniedByProtectedMode() {
		return
	}
	for {
		args, ok, err := c.rd.next()
		if err != nil {
			c.out.error("ERR " + err.Error())
			c.s.log.Debug("protocol error, closing the connection",
				"remote", c.nc.RemoteAddr().String(), "err", err)
			if c.flush() {
				c.lingerClose()
			}
			return
		}
		if !ok {
			if len(c.out.b) > 0 && !c.flush() {
				return
			}
			if c.closing.Load() {
				return
			}
			c.yieldAfterLongSlice()
			if c.s.cfg.IdleTimeout > 0 && !c.extendDeadline() {
				return
			}
			before := c.mark
			if err := c.rd.fill(); err != nil {
				c.readFailed(err)
				return
			}
			c.mark = c.s.clock()
			if c.slice == 0 || c.mark-before > parkGuess {
				c.slice = c.mark // the read probably waited: a new slice
			}
			continue
		}
		if fw := c.s.forwarder; fw != nil && !c.tx.multi && c.rd.buffered() && c.batchable(args) {
			after, perr := c.execPipelined(fw, args)
			if after != nil {
				c.exec(after)
			}
			if perr != nil {
				c.out.error("ERR " + perr.Error())
				if c.flush() {
					c.lingerClose()
				}
				return
			}
		} else {
			c.exec(args)
		}
		c.progressed = true
		if lim := c.s.cfg.OutputLimit; lim > 0 && len(c.out.b) > lim {
			c.outputLimitReached()
			return
		}
		if c.quit {
			c.flush()
			return
		}
		if len(c.out.b) >= flushThreshold && !c.flush() {
			return
		}
	}
}

// Fairness between connections. A client that answers each reply at once
// can keep its connection's goroutine running without ever waiting in a
// read, while requests of other connections wait to be scheduled (up to
// the runtime's 10 ms preemption). Redis serves one read per client per
// event-loop turn; here a goroutine that has run for longer than maxSlice
// without a read that waited (one that took over parkGuess) yields.
const (
	maxSlice  = 200 * time.Microsecond
	parkGuess = 50 * time.Microsecond
)

func (c *conn) yieldAfterLongSlice() {
	if c.slice != 0 && c.mark-c.slice > maxSlice {
		runtime.Gosched()
		c.slice = 0
	}
}

// extendDeadline moves the read deadline to IdleTimeout after the last
// completed command, at most every tenth of the timeout: reads that bring
// no whole command do not move it. It returns false when Shutdown has
// asked the connection to stop (the deadline set here must not hide
// Shutdown's).
func (c *conn) extendDeadline() bool {
	idle := c.s.cfg.IdleTimeout
	if c.progressed {
		c.lastDone, c.progressed = time.Now(), false
	}
	if want := c.lastDone.Add(idle); c.deadline.IsZero() || want.Sub(c.deadline) > idle/10 {
		c.deadline = want
		c.nc.SetReadDeadline(c.deadline)
	}
	return !c.closing.Load()
}

func (c *conn) readFailed(err error) {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), c.closing.Load():
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.s.metrics.closed.WithLabelValues(closedIdle).Inc()
		c.s.log.Debug("closing an idle client (no whole command within the idle timeout)",
			"remote", c.nc.RemoteAddr().String(), "idle_timeout", c.s.cfg.IdleTimeout)
	default:
		c.s.log.Debug("read failed", "remote", c.nc.RemoteAddr().String(), "err", err)
	}
}

// Lingering close after a protocol error: the client's unread request
// bytes would make the kernel reset the connection, and the client could
// lose the error reply; so the write side is closed first and the input
// drained for a short while.
const (
	lingerTime  = 200 * time.Millisecond
	lingerBytes = 1 << 20
)

func (c *conn) lingerClose() {
	if c.ps != nil {
		return // the writer sends the error reply before the connection closes (endPubsub)
	}
	cw, ok := c.nc.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	if !c.closing.Load() {
		c.nc.SetReadDeadline(time.Now().Add(lingerTime))
	}
	io.CopyN(io.Discard, c.nc, lingerBytes)
}

// flush writes the buffered replies; false when the connection failed.
func (c *conn) flush() bool {
	if c.ps != nil {
		return c.flushPubsub()
	}
	var err error
	if c.s.cfg.WriteTimeout > 0 {
		err = c.writeWithTimeout(c.out.b)
	} else {
		var n int
		n, err = c.nc.Write(c.out.b)
		c.outBytes.Add(int64(n))
	}
	if cap(c.out.b) > 4*flushThreshold {
		c.out.b = nil // drop the buffer of a past large reply
	} else {
		c.out.b = c.out.b[:0]
	}
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) && !c.closing.Load() {
			c.s.metrics.closed.WithLabelValues(closedWriteTimeout).Inc()
			if n, ok := c.s.clientLog.Allow(time.Now()); ok {
				c.s.log.Warn("closing a client that does not read its replies (write timeout)",
					"remote", c.nc.RemoteAddr().String(), "write_timeout", c.s.cfg.WriteTimeout, "not_logged_since", n)
			}
			return false
		}
		c.s.log.Debug("write failed", "remote", c.nc.RemoteAddr().String(), "err", err)
		return false
	}
	return true
}

// writeChunk is the most written under one write deadline: a client that
// reads slowly but steadily gets WriteTimeout per chunk, not for a whole
// large reply.
const writeChunk = 1 << 20

// writeWithTimeout writes b, failing when the client takes no chunk of it
// within WriteTimeout. The deadline is re-armed at most every tenth of
// the timeout.
func (c *conn) writeWithTimeout(b []byte) error {
	wt := c.s.cfg.WriteTimeout
	for len(b) > 0 {
		now := time.Now()
		if c.wdeadline.Sub(now) < wt-wt/10 {
			c.wdeadline = now.Add(wt)
			c.nc.SetWriteDeadline(c.wdeadline)
		}
		k := min(len(b), writeChunk)
		n, err := c.nc.Write(b[:k])
		c.outBytes.Add(int64(n))
		if err != nil {
			return err
		}
		b = b[k:]
	}
	return nil
}

// outputLimitReached closes a connection whose pending replies exceed
// Config.OutputLimit: nothing more is written to it.
func (c *conn) outputLimitReached() {
	c.s.metrics.closed.WithLabelValues(closedOutputLimit).Inc()
	if n, ok := c.s.clientLog.Allow(time.Now()); ok {
		c.s.log.Warn("closing a client over the output limit (its pending replies exceed --client-output-limit)",
			"remote", c.nc.RemoteAddr().String(), "pending_bytes", len(c.out.b),
			"output_limit", c.s.cfg.OutputLimit, "not_logged_since", n)
	}
	c.out.b = nil
}
