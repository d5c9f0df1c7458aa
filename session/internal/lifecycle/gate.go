package lifecycle

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// Gate admits a store's operations until Close. A store keeps one in a
// field, calls Open in its constructor (before any other method), brackets
// every operation with Enter and Leave, and calls Close from its own Close.
// Its methods are safe for concurrent use once Open has returned.
type Gate struct {
	// mu is read-held by every operation and write-held by Close, which
	// thereby waits for operations in flight.
	mu      sync.RWMutex
	closed  bool        // guarded by mu
	closing atomic.Bool // set when Close starts; a fast check before mu

	stopCtx context.Context // cancelled by Close; stops sweeps
	stop    context.CancelFunc
	wg      sync.WaitGroup // the sweeper goroutine
}

// Open readies g. When every > 0 it starts the sweeper: a goroutine that
// calls sweep every `every` until Close, logging a failure at Warn and a
// sweep that removed sessions at Debug, each message prefixed with name.
func (g *Gate) Open(name string, every time.Duration, sweep func(context.Context) (int, error), log *slog.Logger) {
	g.stopCtx, g.stop = context.WithCancel(context.Background())
	if every > 0 {
		g.wg.Add(1)
		go g.sweepLoop(name, every, sweep, log)
	}
}

// sweepLoop runs sweep every period until Close.
func (g *Gate) sweepLoop(name string, every time.Duration, sweep func(context.Context) (int, error), log *slog.Logger) {
	defer g.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-g.stopCtx.Done():
			return
		case <-t.C:
			if g.stopCtx.Err() != nil { // Close raced with the tick
				return
			}
			n, err := sweep(g.stopCtx)
			switch {
			case err != nil && g.stopCtx.Err() == nil:
				log.Warn(name+": sweep failed", "err", err, "removed", n)
			case n > 0:
				log.Debug(name+": swept expired sessions", "removed", n)
			}
		}
	}
}

// Closing reports that Close has started, so that calls can fail fast with
// session.ErrClosed before taking any lock.
func (g *Gate) Closing() bool { return g.closing.Load() }

// Enter starts an operation: it fails with session.ErrClosed once the store
// is closed, or with ctx.Err() when ctx is done. A nil error must be paired
// with Leave; Close waits for it.
func (g *Gate) Enter(ctx context.Context) error {
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return session.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		g.mu.RUnlock()
		return err
	}
	return nil
}

// Leave ends an operation that Enter admitted.
func (g *Gate) Leave() { g.mu.RUnlock() }

// Stopped is what a long operation (a sweep) checks between steps: ctx.Err()
// when ctx is done, session.ErrClosed once Close has started, else nil.
func (g *Gate) Stopped(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if g.stopCtx.Err() != nil {
		return session.ErrClosed
	}
	return nil
}

// Close stops the sweeper and waits for it, then waits for the operations
// in flight and calls release (which frees the store's storage) and returns
// its error. It is idempotent: a later Close returns nil without calling
// release again.
func (g *Gate) Close(release func() error) error {
	g.closing.Store(true)
	g.stop()
	g.wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	return release()
}
