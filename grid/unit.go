package grid

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// A Unit holds back the replication of the writes made with its context
// until Commit: a pipelined batch or a script then costs one backup round
// trip per partition, not one per command, and the writes of one partition
// reach its backups as one entry, applied whole — a failover never shows
// part of a script. Until Commit returns nil none of those writes may be
// acknowledged to a client, and reads by other callers of the keys they
// wrote wait for the commit (reads through the unit's own context see
// them).
type Unit struct {
	n     *Node
	mu    sync.Mutex                  // guards parts
	parts map[int]map[string]struct{} // partition -> keys written
}

type unitKey struct{}

// unitMark is the pending sequence number of a key written in a unit that
// has not committed yet.
const unitMark = math.MaxUint64

// BeginUnit returns a context whose local writes join a new unit.
func (n *Node) BeginUnit(ctx context.Context) (context.Context, *Unit) {
	u := &Unit{n: n}
	return context.WithValue(ctx, unitKey{}, u), u
}

func unitOf(ctx context.Context) *Unit {
	u, _ := ctx.Value(unitKey{}).(*Unit)
	return u
}

func (u *Unit) add(p int, key string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.parts == nil {
		u.parts = map[int]map[string]struct{}{}
	}
	if u.parts[p] == nil {
		u.parts[p] = map[string]struct{}{}
	}
	u.parts[p][key] = struct{}{}
}

func (u *Unit) has(p int, key string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	_, ok := u.parts[p][key]
	return ok
}

// writeInUnit applies a write of key for unit u: applied here now, marked
// pending, replicated at the unit's commit.
func (n *Node) writeInUnit(pt *part, p int, key string, apply func() error, u *Unit) error {
	r := &pt.repl
	r.wmu.Lock()
	prev, had := r.setPendingLocked(key, unitMark)
	if err := apply(); err != nil {
		r.restorePendingLocked(key, prev, had)
		r.wmu.Unlock()
		return err
	}
	r.wmu.Unlock()
	u.add(p, key)
	return nil
}

// Commit replicates the unit's writes, one entry per partition, all
// partitions in the same frames to each backup, and returns once every
// synchronous backup holds them. An error means their outcome is unknown
// (session.ErrUnavailable).
func (u *Unit) Commit(ctx context.Context) error {
	u.mu.Lock()
	parts := u.parts
	u.parts = nil
	u.mu.Unlock()
	if len(parts) == 0 {
		return nil
	}
	n := u.n
	deadline := time.Now().Add(n.cfg.BackupTimeout)
	type sent struct {
		p      int
		seq    uint64
		tenure uint64
		keys   map[string]struct{}
		items  []*pitem
	}
	var all []sent
	var first error
	for p, keys := range parts {
		seq, tenure, items, err := n.prepareCommit(ctx, p, keys, deadline)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		if seq != 0 {
			all = append(all, sent{p, seq, tenure, keys, items})
		}
	}
	for _, c := range all {
		pt := n.parts[c.p]
		r := &pt.repl
		if !n.await(ctx, c.items, deadline) && !n.waitCommitted(ctx, pt, c.seq, deadline) {
			if first == nil {
				first = fmt.Errorf("%w: a backup of partition %d did not acknowledge the batch; its writes may or may not have been applied", session.ErrUnavailable, c.p)
			}
			continue
		}
		r.wmu.Lock()
		for k := range c.keys {
			r.clearPendingLocked(k, c.seq)
		}
		r.signalLocked()
		r.wmu.Unlock()
		if !n.stillPrimary(ctx, pt, c.p, c.tenure, deadline) && first == nil {
			first = errLeaseLost
		}
	}
	return first
}

// prepareCommit gives a unit's writes of partition p one sequence number
// and queues their post-images, as one entry, for every backup. A zero seq
// means there was nothing to send (no backups).
func (n *Node) prepareCommit(ctx context.Context, p int, keys map[string]struct{}, deadline time.Time) (seq, tenure uint64, items []*pitem, err error) {
	pt := n.parts[p]
	r := &pt.repl
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if !n.waitReadyLocked(ctx, pt, deadline) {
		return 0, 0, nil, errBackupsBehind
	}
	s := pt.store.Load()
	if !pt.primary.Load() || s == nil {
		return 0, 0, nil, fmt.Errorf("%w: partition %d moved before its writes were replicated; they may or may not have been applied", session.ErrUnavailable, p)
	}
	if len(r.links) == 0 {
		for k := range keys {
			r.clearPendingLocked(k, unitMark)
		}
		r.signalLocked()
		return 0, 0, nil, nil
	}
	r.seq++
	seq = r.seq
	e := entry{seq: seq, kind: entryMulti}
	for k := range keys {
		e.multi = append(e.multi, postImage(s, seq, k))
		r.setPendingLocked(k, seq)
	}
	return seq, r.tenure, n.enqueueLocked(pt, p, r.tenure, r.targetsLocked(), []entry{e}), nil
}

// appendMulti encodes the sub-entries of a multi entry.
func appendMulti(b []byte, subs []entry) []byte {
	b = binary.AppendUvarint(b, uint64(len(subs)))
	for _, s := range subs {
		b = append(b, s.kind)
		if s.kind == entryRecord {
			b = appendRecord(b, s.rec)
		} else {
			b = appendList(b, []byte(s.key))
		}
	}
	return b
}

func decodeMulti(b []byte) ([]entry, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, nil, fmt.Errorf("%w: multi entry count", errMalformed)
	}
	b = b[k:]
	out := make([]entry, 0, n)
	for i := uint64(0); i < n; i++ {
		if len(b) < 1 {
			return nil, nil, fmt.Errorf("%w: multi entry", errMalformed)
		}
		e := entry{kind: b[0]}
		if e.kind != entryRecord && e.kind != entryDelete {
			return nil, nil, fmt.Errorf("%w: multi sub-entry kind %d", errMalformed, e.kind)
		}
		e, rest, err := decodeKeyEntry(e, b[1:])
		if err != nil {
			return nil, nil, err
		}
		b = rest
		out = append(out, e)
	}
	return out, b, nil
}

// applyMulti applies a multi entry's sub-entries: the caller holds bmu, so
// no other entry of the partition applies in between.
func applyMulti(ctx context.Context, s *memory.Store, subs []entry) error {
	for _, e := range subs {
		if err := applyEntry(ctx, s, e); err != nil {
			return err
		}
	}
	return nil
}
