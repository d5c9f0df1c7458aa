package grid

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessiongrid/sessiongrid/partition"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// call is one routed operation: how to run it on a local store, how to ask
// the owner for it, and how to read the owner's answer.
type call struct {
	key   string
	write bool
	local func(s *memory.Store) error
	op    byte
	args  func() [][]byte
	reply func(items [][]byte) error
}

// route runs c on the owner of its key's partition. Reads are retried until
// Config.RouteTimeout while ownership moves or the owner is unreachable;
// writes are retried only on redirects (the owner refused them, so they were
// not applied): a write that failed in flight is reported as
// session.ErrUnavailable, its outcome unknown.
func (n *Node) route(ctx context.Context, c call) error {
	p := partition.ID(c.key, n.cfg.Partitions)
	var deadline time.Time
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt == 1 {
			deadline = time.Now().Add(n.cfg.RouteTimeout)
			if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
				deadline = d
			}
		}
		if attempt > 0 {
			if time.Now().After(deadline) {
				if lastErr == nil {
					lastErr = errors.New("ownership kept moving")
				}
				return fmt.Errorf("%w: partition %d: %v", session.ErrUnavailable, p, lastErr)
			}
			backoff := time.Duration(min(attempt, 10)) * 5 * time.Millisecond
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return fmt.Errorf("%w: %w", session.ErrUnavailable, ctx.Err())
			case <-n.stop:
				return fmt.Errorf("grid: %w", session.ErrClosed)
			}
		}
		t := n.table.Load()
		if len(t.Partitions) == 0 {
			lastErr = errNoTable
			n.waitTable(ctx, 1, deadline)
			continue
		}
		owner := t.Owner(p)
		if owner == n.self {
			served, err := n.serveLocal(ctx, p, c.key, c.write, c.local)
			if served {
				return err
			}
			lastErr = errors.New("this member leads the partition but holds no lease (cut off from the coordinator?) or is still taking it over")
			n.waitTable(ctx, t.Epoch+1, earlier(deadline, 20*time.Millisecond))
			continue
		}
		addr := n.addrOf(owner)
		if addr == "" {
			lastErr = fmt.Errorf("owner %q is not a reachable member", owner)
			n.waitTable(ctx, t.Epoch+1, earlier(deadline, 100*time.Millisecond))
			continue
		}
		req := request{op: c.op, epoch: t.Epoch, partition: p, args: c.args()}
		b, err := n.tr.Call(ctx, addr, msgOp, req.encode())
		if err != nil {
			if c.write || !errors.Is(err, session.ErrUnavailable) {
				return err
			}
			lastErr = err
			n.waitTable(ctx, t.Epoch+1, earlier(deadline, 100*time.Millisecond))
			continue
		}
		items, redirected, epoch, err := decodeResponse(b)
		if err != nil {
			return fmt.Errorf("%w: from %s: %v", session.ErrUnavailable, owner, err)
		}
		if redirected {
			lastErr = fmt.Errorf("%s no longer owns it (epoch %d)", owner, epoch)
			n.waitTable(ctx, max(epoch, t.Epoch+1), earlier(deadline, 200*time.Millisecond))
			continue
		}
		return c.reply(items)
	}
}

// acquire returns key's partition, read-locked, and its store when this
// member owns it now; nil otherwise. The caller runs its operation on the
// store and then calls release. This is the allocation-free fast path of
// the hottest operations (an embedded peer reading its own sessions).
//
// Partitions with backups take the routed path (serveLocal), which
// replicates writes and orders reads after them.
func (n *Node) acquire(key string) (*part, *memory.Store) {
	p := partition.ID(key, n.cfg.Partitions)
	pt := n.parts[p]
	pt.gate.RLock()
	if t := n.table.Load(); len(t.Partitions) > 0 && t.Owner(p) == n.self && pt.primary.Load() &&
		!pt.repl.hasLinks.Load() && pt.repl.npending.Load() == 0 && n.leased(t) {
		if s := pt.store.Load(); s != nil {
			return pt, s
		}
	}
	pt.gate.RUnlock()
	return nil, nil
}

// release ends an operation begun by acquire, recording key as written
// when a migration of the partition is running.
func (pt *part) release(key string, write bool) {
	if write {
		if h := hookOf(pt.hooks); h != nil {
			h.written(key)
		}
	}
	if write && pt.tracking.Load() {
		pt.dmu.Lock()
		if pt.dirty != nil {
			pt.dirty[key] = struct{}{}
		}
		pt.dmu.Unlock()
	}
	pt.gate.RUnlock()
}

// serveLocal runs fn on partition p's store if this member leads p now and
// holds its lease. The partition's gate is held shared, so a handoff freeze
// waits for fn (and for its backups' acknowledgement) and fn never runs
// after the partition was handed over. A write returns once every
// synchronous backup holds it; a read waits until what it read is on every
// synchronous backup.
func (n *Node) serveLocal(ctx context.Context, p int, key string, write bool, fn func(s *memory.Store) error) (served bool, err error) {
	pt := n.parts[p]
	pt.gate.RLock()
	s := pt.store.Load()
	if t := n.table.Load(); len(t.Partitions) == 0 || t.Owner(p) != n.self || s == nil || !pt.primary.Load() || !n.leased(t) {
		pt.gate.RUnlock()
		return false, nil
	}
	if write {
		err = n.write(ctx, pt, p, s, key, func() error { return fn(s) })
	} else {
		err = fn(s)
		again, berr := n.readBarrier(ctx, pt, p, key)
		switch {
		case berr != nil:
			err = berr
		case again:
			err = fn(s)
		}
		if berr == nil {
			if aerr := n.afterRead(ctx, pt, p, s, key); aerr != nil {
				err = aerr
			}
		}
		if !n.stillLeads(pt, p) { // a miss may be stale too
			pt.release(key, write)
			return false, nil // not served: the caller routes it again
		}
	}
	pt.release(key, write)
	return true, err
}

// stillLeads reports, after a read, that this member still leads partition
// p under a lease. The lease was checked before the read too, but the
// reading goroutine may have been descheduled past the lease's end (and
// past another member's promotion and first write) between that check and
// the read: only a check after the read proves that the value read was
// still the partition's latest when it was read. (A lease renewed after
// the read carries the epoch of any takeover, which this member's table
// then fails — t.Epoch >= leaseEpoch — or names another owner.)
func (n *Node) stillLeads(pt *part, p int) bool {
	t := n.table.Load()
	return len(t.Partitions) > 0 && t.Owner(p) == n.self && pt.primary.Load() && n.leased(t)
}

// stillLeadsKey is stillLeads for the fast path (acquire), which knows key
// rather than its partition.
func (n *Node) stillLeadsKey(pt *part, key string) bool {
	return n.stillLeads(pt, partition.ID(key, n.cfg.Partitions))
}

// handleOp serves a peer's operation on a partition this member owns.
func (n *Node) handleOp(ctx context.Context, b []byte) ([]byte, error) {
	req, err := decodeRequest(b)
	if err != nil {
		return nil, err
	}
	if req.partition >= n.cfg.Partitions || len(req.args) == 0 {
		return nil, fmt.Errorf("%w: partition %d of %d, %d args", errMalformed, req.partition, n.cfg.Partitions, len(req.args))
	}
	key := string(req.args[0])
	if partition.ID(key, n.cfg.Partitions) != req.partition {
		return nil, fmt.Errorf("%w: key is not in partition %d", errMalformed, req.partition)
	}
	if req.epoch > n.applied.Load() { // the sender saw a newer table: catch up first
		n.waitTable(ctx, req.epoch, time.Now().Add(time.Second))
	}
	var items [][]byte
	var served bool
	serve := func() {
		served, err = n.serveLocal(ctx, req.partition, key, isWrite(req.op), func(s *memory.Store) error {
			var err error
			items, err = exec(ctx, s, req.op, req.args)
			return err
		})
	}
	if h := n.hooks.Load(); h != nil {
		h.gate(serve) // waits for a transaction or a script running here
	} else {
		serve()
	}
	if !served {
		return encodeRedirect(n.table.Load().Epoch), nil
	}
	if err != nil {
		return nil, err
	}
	return encodeResponse(items...), nil
}

// earlier returns deadline or now+d, whichever comes first.
func earlier(deadline time.Time, d time.Duration) time.Time {
	if t := time.Now().Add(d); t.Before(deadline) {
		return t
	}
	return deadline
}
