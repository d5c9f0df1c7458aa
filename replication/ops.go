package replication

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hashicorp/raft"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/transport"
)

// ReadOption changes how a read is served.
type ReadOption func(*readOptions)

type readOptions struct {
	stale bool
}

// Stale makes a read serve this member's local copy without contacting the
// leader: fast, but it may miss recent writes (and on a member cut off from
// the leader, any number of them). Embedded and lite members have no copy
// and ask a server for its local copy.
func Stale() ReadOption { return func(o *readOptions) { o.stale = true } }

// maxHops bounds forwarding: member → server → leader.
const maxHops = 2

// Save writes a global. The write is linearizable: when Save returns nil,
// every later read on any member sees it (or a later write). An error
// wrapping session.ErrUnavailable means the write may or may not have been
// applied.
func (g *Globals) Save(ctx context.Context, key string, value []byte) error {
	if err := g.validate(key); err != nil {
		return err
	}
	if len(value) > g.cfg.MaxValueSize {
		return fmt.Errorf("%w: global %q: %d bytes, limit %d", session.ErrTooLarge, key, len(value), g.cfg.MaxValueSize)
	}
	_, err := g.apply(ctx, encodeCommand(opSave, key, value), 0)
	return err
}

// Evict removes a global and reports whether it existed.
func (g *Globals) Evict(ctx context.Context, key string) (bool, error) {
	if err := g.validate(key); err != nil {
		return false, err
	}
	existed, err := g.apply(ctx, encodeCommand(opEvict, key, nil), 0)
	return existed, err
}

// Get returns a global (session.ErrNotFound if there is none). The read is
// linearizable unless Stale is given.
func (g *Globals) Get(ctx context.Context, key string, opts ...ReadOption) ([]byte, error) {
	if err := g.validate(key); err != nil {
		return nil, err
	}
	b, err := g.read(ctx, readRequest{op: readGet, key: key, stale: applyOpts(opts).stale}, 0)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// All returns every global. The read is linearizable unless Stale is given.
func (g *Globals) All(ctx context.Context, opts ...ReadOption) (map[string][]byte, error) {
	if g.closed.Load() {
		return nil, fmt.Errorf("globals: %w", session.ErrClosed)
	}
	b, err := g.read(ctx, readRequest{op: readAll, stale: applyOpts(opts).stale}, 0)
	if err != nil {
		return nil, err
	}
	m, _, _, _, err := readSnapshot(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		return nil, fmt.Errorf("globals: %w: %w", session.ErrCodec, err)
	}
	return m, nil
}

func applyOpts(opts []ReadOption) readOptions {
	var o readOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

func (g *Globals) validate(key string) error {
	if g.closed.Load() {
		return fmt.Errorf("globals: %w", session.ErrClosed)
	}
	if err := session.ValidateKey(key); err != nil {
		return err
	}
	if len(key) > g.cfg.MaxKeySize {
		return fmt.Errorf("%w: global key of %d bytes, limit %d", session.ErrInvalidKey, len(key), g.cfg.MaxKeySize)
	}
	return nil
}

// withTimeout bounds ctx by d when it has no earlier deadline.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// apply runs a command through the leader's log and returns its result
// (whether the key existed, for an evict). Attempts that certainly did not
// reach a log (no leader known, the leader unreachable, a node that is no
// longer leader refusing to enqueue) are retried until ctx's deadline;
// anything that may have reached a log is not.
func (g *Globals) apply(ctx context.Context, cmd []byte, hops int) (bool, error) {
	ctx, cancel := withTimeout(ctx, g.cfg.ApplyTimeout)
	defer cancel()
	giveUp := time.Now().Add(g.cfg.LeaderWait)
	for backoff := 5 * time.Millisecond; ; backoff = min(2*backoff, 100*time.Millisecond) {
		existed, err := g.applyOnce(ctx, cmd, hops, giveUp)
		if err == nil || !notSent(err) || ctx.Err() != nil || g.closed.Load() || time.Now().After(giveUp) {
			return existed, err
		}
		select {
		case <-ctx.Done():
			return false, err
		case <-time.After(backoff):
		}
	}
}

// notSent reports an error after which the request certainly was not
// applied, so that it can be retried.
func notSent(err error) bool {
	return errors.Is(err, ErrNoLeader) || errors.Is(err, transport.ErrConnect) || errors.Is(err, raft.ErrNotLeader)
}

func (g *Globals) applyOnce(ctx context.Context, cmd []byte, hops int, giveUp time.Time) (bool, error) {
	addr, err := g.route(ctx, hops, giveUp)
	if err != nil {
		return false, err
	}
	if addr == "" {
		return g.applyLocal(ctx, cmd)
	}
	resp, err := g.tr.Call(ctx, addr, msgApply, append([]byte{byte(hops + 1)}, cmd...))
	if err != nil {
		return false, fmt.Errorf("globals: forward write to %s: %w", addr, err)
	}
	return len(resp) == 1 && resp[0] == 1, nil
}

// applyLocal applies cmd on this node, which believes it leads.
func (g *Globals) applyLocal(ctx context.Context, cmd []byte) (bool, error) {
	f := g.raft.Apply(cmd, g.cfg.ApplyTimeout)
	if err := g.wait(ctx, f); err != nil {
		return false, raftError("write", err)
	}
	switch r := f.Response().(type) {
	case nil:
		return false, nil
	case bool:
		return r, nil
	case error:
		return false, r
	default:
		return false, fmt.Errorf("globals: unexpected state machine result %T", r)
	}
}

// raftError wraps an error of raft (or of waiting for it) for callers.
func raftError(op string, err error) error {
	switch {
	case errors.Is(err, session.ErrClosed):
		return err
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%w: globals %s: this node is no longer the leader: %w", session.ErrUnavailable, op, err)
	case errors.Is(err, raft.ErrLeadershipLost):
		return fmt.Errorf("%w: globals %s: leadership lost before the entry committed (no quorum?); it may or may not be applied: %w", session.ErrUnavailable, op, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: globals %s: no answer from a quorum in time; it may or may not be applied: %w", session.ErrUnavailable, op, err)
	}
	return fmt.Errorf("%w: globals %s: %w", session.ErrUnavailable, op, err)
}

// route returns the transport address to send a request to, or "" when
// this node is the leader and must serve it. It waits until giveUp for a
// leader to be known.
func (g *Globals) route(ctx context.Context, hops int, giveUp time.Time) (string, error) {
	if !g.server {
		if hops >= maxHops {
			return "", fmt.Errorf("%w: globals: forwarded too many times", session.ErrUnavailable)
		}
		return g.anyServer()
	}
	wait := time.NewTimer(time.Until(giveUp))
	defer wait.Stop()
	for {
		if g.raft.State() == raft.Leader {
			return "", nil
		}
		if _, id := g.raft.LeaderWithID(); id != "" && hops < maxHops {
			if m, ok := g.node.Member(string(id)); ok && m.Addrs.Transport != "" && m.State != cluster.StateDead && m.State != cluster.StateLeft {
				return m.Addrs.Transport, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w: %w: %w", session.ErrUnavailable, ErrNoLeader, ctx.Err())
		case <-wait.C:
			return "", fmt.Errorf("%w: %w (waited %v)", session.ErrUnavailable, ErrNoLeader, g.cfg.LeaderWait)
		case <-g.ctx.Done():
			return "", fmt.Errorf("globals: %w", session.ErrClosed)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// anyServer picks an alive server member for a member without Raft.
func (g *Globals) anyServer() (string, error) {
	var addrs []string
	for _, m := range g.node.Members() {
		if m.Role == cluster.RoleServer && m.State == cluster.StateAlive && m.Addrs.Transport != "" {
			addrs = append(addrs, m.Addrs.Transport)
		}
	}
	if len(addrs) == 0 {
		return "", fmt.Errorf("%w: %w: no server member is alive", session.ErrUnavailable, ErrNoLeader)
	}
	return addrs[rand.IntN(len(addrs))], nil
}

// read serves a read locally (stale, or linearizable on the leader) or
// forwards it. Reads have no effect, so every unavailability is retried
// until LeaderWait has passed.
func (g *Globals) read(ctx context.Context, req readRequest, hops int) ([]byte, error) {
	ctx, cancel := withTimeout(ctx, g.cfg.ApplyTimeout)
	defer cancel()
	if req.stale && g.server {
		return g.readLocal(req)
	}
	giveUp := time.Now().Add(g.cfg.LeaderWait)
	for backoff := 5 * time.Millisecond; ; backoff = min(2*backoff, 100*time.Millisecond) {
		b, err := g.readOnce(ctx, req, hops, giveUp)
		if err == nil || !errors.Is(err, session.ErrUnavailable) || ctx.Err() != nil || g.closed.Load() || time.Now().After(giveUp) {
			return b, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(backoff):
		}
	}
}

func (g *Globals) readOnce(ctx context.Context, req readRequest, hops int, giveUp time.Time) ([]byte, error) {
	addr, err := g.route(ctx, hops, giveUp)
	if err != nil {
		return nil, err
	}
	if addr == "" {
		if err := g.ensureReadable(ctx); err != nil {
			return nil, err
		}
		if g.localReadHook != nil {
			g.localReadHook()
		}
		if err := g.wait(ctx, g.raft.VerifyLeader()); err != nil {
			return nil, raftError("read", err)
		}
		return g.readLocal(req)
	}
	resp, err := g.tr.Call(ctx, addr, msgRead, req.encode(hops+1))
	if err != nil {
		return nil, fmt.Errorf("globals: forward read to %s: %w", addr, err)
	}
	return resp, nil
}

// ensureReadable makes sure this leader has applied everything committed
// before its term (a barrier once per term), so that reads of its state
// machine after VerifyLeader are linearizable.
func (g *Globals) ensureReadable(ctx context.Context) error {
	term := g.raft.CurrentTerm()
	if g.readyTerm.Load() == term {
		return nil
	}
	if err := g.wait(ctx, g.raft.Barrier(g.cfg.ApplyTimeout)); err != nil {
		return raftError("read barrier", err)
	}
	if g.raft.CurrentTerm() == term && g.raft.State() == raft.Leader {
		g.readyTerm.Store(term)
	}
	return nil
}

// readLocal reads this server's state machine.
func (g *Globals) readLocal(req readRequest) ([]byte, error) {
	if req.op == readAll {
		var buf bytes.Buffer
		if err := writeSnapshot(&buf, g.fsm.all(), 0, nil); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	v, ok := g.fsm.get(req.key)
	if !ok {
		return nil, fmt.Errorf("%w: global %q", session.ErrNotFound, req.key)
	}
	return bytes.Clone(v), nil
}
