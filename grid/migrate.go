package grid

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// Migration of partition p from its primary to a learner, run by the
// primary:
//
//  1. record the keys written to p from now on (dirty set);
//  2. stream every record of p to the learner, which imports them;
//  3. stream the dirty keys' current records (or tombstones) again, round
//     after round, until few are left;
//  4. freeze p (no operation runs), stream the last dirty keys, and ask the
//     coordinator to hand p over (learner becomes primary, we drop out);
//  5. stay frozen until the outcome is known here — the new table applied,
//     or the handoff aborted — so that no write is acknowledged by a member
//     that no longer owns p.

const dirtyRounds = 8 // rounds of step 3 before freezing anyway

func (n *Node) startMigration(p int, learner string) {
	n.moving(p, func() {
		select {
		case n.migrations <- struct{}{}:
			defer func() { <-n.migrations }()
		case <-n.stop:
			return
		}
		if err := n.migrate(p, learner); err != nil && !n.stopped() {
			n.logger.Warn("migration failed; the coordinator will retry", "partition", p, "learner", learner, "err", err)
		}
	})
}

// moving runs move on a goroutine of the node unless a move of p (a
// migration or a switch) runs already: one move of a partition at a time.
func (n *Node) moving(p int, move func()) {
	n.mmu.Lock()
	if n.migrating[p] {
		n.mmu.Unlock()
		return
	}
	n.migrating[p] = true
	n.mmu.Unlock()
	n.goFunc(func() {
		defer func() {
			n.mmu.Lock()
			delete(n.migrating, p)
			n.mmu.Unlock()
		}()
		move()
	})
}

func (n *Node) stillMigrating(p int, learner string) bool {
	t := n.table.Load()
	if len(t.Partitions) == 0 {
		return false
	}
	a := t.Partitions[p]
	return a.Primary() == n.self && slices.Contains(a.Learners, learner)
}

func (n *Node) migrate(p int, learner string) error {
	ctx, cancel := n.stopContext()
	defer cancel()
	pt := n.parts[p]
	pt.dmu.Lock()
	pt.dirty = map[string]struct{}{}
	pt.dmu.Unlock()
	pt.tracking.Store(true)
	defer func() {
		pt.tracking.Store(false)
		pt.dmu.Lock()
		pt.dirty = nil
		pt.dmu.Unlock()
	}()
	addr := n.addrOf(learner)
	if addr == "" {
		return fmt.Errorf("learner %q has no address", learner)
	}
	s := pt.store.Load()
	if s == nil || !n.stillMigrating(p, learner) {
		return nil
	}
	epoch := n.table.Load().Epoch
	b := newBatcher(n, ctx, addr, epoch, p)
	if err := s.Export(ctx, nil, b.add); err != nil {
		return err
	}
	if err := b.flush(); err != nil {
		return err
	}
	for round := 0; round < dirtyRounds; round++ {
		keys := pt.takeDirty()
		if len(keys) <= 64 {
			pt.requeue(keys)
			break
		}
		if err := b.sendKeys(s, keys); err != nil {
			return err
		}
	}
	if !n.stillMigrating(p, learner) {
		return nil
	}
	return n.handoff(ctx, p, learner, b)
}

// handoff freezes p, sends the last dirty keys and the sequence number the
// learner now holds, and asks the coordinator to make the learner a full
// replica (a backup: a primary switch, if the target wants one, follows as
// its own step).
func (n *Node) handoff(ctx context.Context, p int, learner string, b *batcher) error {
	pt := n.parts[p]
	pt.gate.Lock()
	defer pt.gate.Unlock()
	s := pt.store.Load()
	if s == nil || !n.stillMigrating(p, learner) {
		return nil
	}
	if err := b.sendKeys(s, pt.takeDirty()); err != nil {
		return err // nothing asked of the coordinator yet: unfreezing is safe
	}
	r := &pt.repl
	r.wmu.Lock()
	b.sync, b.syncAt = true, [2]uint64{r.tenure, r.seq}
	r.wmu.Unlock()
	if err := b.flush(); err != nil {
		return err
	}
	r.wmu.Lock()
	if r.handoff == nil {
		r.handoff = map[string]uint64{}
	}
	r.handoff[learner] = b.syncAt[1]
	r.wmu.Unlock()
	epoch, err := n.askCoordinator(ctx, p, learner, handoffPromote)
	for err != nil {
		// The handoff may or may not have been committed: stay frozen until
		// an abort (or the committed handoff) gives a definite epoch.
		n.logger.Warn("handoff outcome unknown; aborting it", "partition", p, "learner", learner, "err", err)
		select {
		case <-time.After(100 * time.Millisecond):
		case <-n.stop:
			return errors.New("stopped during a handoff")
		}
		epoch, err = n.askCoordinator(ctx, p, learner, handoffAbort)
	}
	for !n.waitTable(ctx, epoch, time.Now().Add(time.Second)) {
		if n.stopped() {
			return errors.New("stopped during a handoff")
		}
	}
	if slices.Contains(n.table.Load().Partitions[p].Replicas, learner) {
		n.metrics.migrations.Add(1)
		n.logger.Debug("learner in sync; now a replica", "partition", p, "learner", learner, "epoch", epoch)
	}
	return nil
}

// startSwitch hands the lead of p to replica target (the coordinator asked
// for it): freeze p, wait until target holds every write, have the
// coordinator commit the switch, and stay frozen until it is applied here.
func (n *Node) startSwitch(p int, target string) {
	n.moving(p, func() {
		if err := n.switchPrimary(p, target); err != nil && !n.stopped() {
			n.logger.Info("primary switch not done; the coordinator will ask again", "partition", p, "to", target, "err", err)
		}
	})
}

func (n *Node) switchPrimary(p int, target string) error {
	pt := n.parts[p]
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.FreezeTimeout)
	defer cancel()
	pt.gate.Lock()
	defer pt.gate.Unlock()
	t := n.table.Load()
	if len(t.Partitions) == 0 {
		return nil
	}
	a := t.Partitions[p]
	if a.Primary() != n.self || !slices.Contains(a.Replicas, target) || !pt.primary.Load() {
		return nil
	}
	// Frozen: no write runs. Wait until target has applied every write.
	r := &pt.repl
	deadline := time.Now().Add(n.cfg.FreezeTimeout)
	for {
		r.wmu.Lock()
		caught := false
		for _, l := range r.links {
			if l.member == target && l.healthy && l.acked >= r.seq {
				caught = true
			}
		}
		if caught {
			r.wmu.Unlock()
			break
		}
		ch := r.waitLocked()
		r.wmu.Unlock()
		ok := n.wait(ctx, ch, deadline)
		r.doneWaiting()
		if !ok {
			return fmt.Errorf("replica %s is not in sync", target)
		}
	}
	epoch, err := n.askCoordinator(ctx, p, target, handoffSwitch)
	if err != nil {
		// Committed or not: stay frozen until the table says.
		for {
			select {
			case <-time.After(100 * time.Millisecond):
			case <-n.stop:
				return errors.New("stopped during a switch")
			}
			if epoch, err = n.askCoordinator(context.Background(), p, target, handoffQuery); err == nil {
				break
			}
		}
	}
	for !n.waitTable(context.Background(), epoch, time.Now().Add(time.Second)) {
		if n.stopped() {
			return errors.New("stopped during a switch")
		}
	}
	return nil
}

// Handoff requests to the coordinator.
const (
	handoffPromote byte = 0 // the learner is in sync: make it a replica
	handoffAbort   byte = 1 // drop the learner
	handoffSwitch  byte = 2 // the replica holds every write: make it primary
	handoffQuery   byte = 3 // no change: the epoch of the table in force
)

// askCoordinator asks the coordinator to settle a handoff of p to member
// and returns the epoch of the table that settles it.
func (n *Node) askCoordinator(ctx context.Context, p int, member string, mode byte) (uint64, error) {
	coord := n.coordinator()
	if coord == "" {
		return 0, errors.New("no coordinator")
	}
	req := appendList(nil, u64(uint64(p)), []byte(member), []byte(n.self), []byte{mode})
	var b []byte
	var err error
	if coord == n.self {
		b, err = n.handleSynced(ctx, req)
	} else {
		addr := n.addrOf(coord)
		if addr == "" {
			return 0, fmt.Errorf("coordinator %q has no address", coord)
		}
		cctx, cancel := context.WithTimeout(ctx, n.cfg.FreezeTimeout)
		b, err = n.tr.Call(cctx, addr, msgSynced, req)
		cancel()
	}
	if err != nil {
		return 0, err
	}
	items, _, _, err := decodeResponse(b)
	if err != nil {
		return 0, err
	}
	v, err := one(items)
	if err != nil {
		return 0, err
	}
	return getU64(v)
}

func (pt *part) takeDirty() []string {
	pt.dmu.Lock()
	defer pt.dmu.Unlock()
	keys := make([]string, 0, len(pt.dirty))
	for k := range pt.dirty {
		keys = append(keys, k)
	}
	if pt.dirty != nil {
		pt.dirty = map[string]struct{}{}
	}
	return keys
}

func (pt *part) requeue(keys []string) {
	pt.dmu.Lock()
	defer pt.dmu.Unlock()
	for _, k := range keys {
		if pt.dirty != nil {
			pt.dirty[k] = struct{}{}
		}
	}
}

// batcher sends records to a learner in batches of about BatchBytes.
type batcher struct {
	n     *Node
	ctx   context.Context
	addr  string
	epoch uint64
	p     int
	buf   []byte
	count int
	reset bool // the next batch first empties the learner's copy
	// sync, on the last batch of a handoff, tells the learner the tenure
	// and sequence number its copy now holds.
	sync   bool
	syncAt [2]uint64
}

func newBatcher(n *Node, ctx context.Context, addr string, epoch uint64, p int) *batcher {
	return &batcher{n: n, ctx: ctx, addr: addr, epoch: epoch, p: p, reset: true}
}

func (b *batcher) add(r memory.Record) error {
	b.buf = appendRecord(b.buf, r)
	b.count++
	if len(b.buf) >= b.n.cfg.BatchBytes {
		return b.flush()
	}
	return nil
}

// sendKeys sends the current record of each key, or a tombstone for a key
// that is gone.
func (b *batcher) sendKeys(s *memory.Store, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	set := make(map[string]bool, len(keys))
	for _, k := range keys {
		set[k] = true
	}
	err := s.Export(b.ctx, func(k string) bool { return set[k] }, func(r memory.Record) error {
		delete(set, r.Key)
		return b.add(r)
	})
	if err != nil {
		return err
	}
	for k := range set {
		if err := b.add(memory.Record{Key: k, Kind: session.KindNone}); err != nil {
			return err
		}
	}
	return b.flush()
}

func (b *batcher) flush() error {
	if b.count == 0 && !b.reset && !b.sync {
		return nil
	}
	var flags byte
	if b.reset {
		flags |= 1
	}
	if b.sync {
		flags |= 2
	}
	req := []byte{flags}
	b.reset = false
	req = binary.AppendUvarint(req, b.epoch)
	req = binary.AppendUvarint(req, uint64(b.p))
	if b.sync {
		req = binary.AppendUvarint(req, b.syncAt[0])
		req = binary.AppendUvarint(req, b.syncAt[1])
	}
	req = binary.AppendUvarint(req, uint64(b.count))
	req = append(req, b.buf...)
	b.buf, b.count = b.buf[:0], 0
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	_, err := b.n.tr.Call(ctx, b.addr, msgImport, req)
	return err
}

// handleImport applies a batch of records on a learner.
func (n *Node) handleImport(ctx context.Context, b []byte) ([]byte, error) {
	if len(b) < 1 || b[0] > 3 {
		return nil, fmt.Errorf("%w: import flags", errMalformed)
	}
	reset, sync := b[0]&1 != 0, b[0]&2 != 0
	b = b[1:]
	epoch, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, fmt.Errorf("%w: import epoch", errMalformed)
	}
	b = b[k:]
	p, k := binary.Uvarint(b)
	if k <= 0 || p >= uint64(n.cfg.Partitions) {
		return nil, fmt.Errorf("%w: import partition", errMalformed)
	}
	b = b[k:]
	var syncAt [2]uint64
	if sync {
		for i := range syncAt {
			v, k := binary.Uvarint(b)
			if k <= 0 {
				return nil, fmt.Errorf("%w: import sync point", errMalformed)
			}
			syncAt[i], b = v, b[k:]
		}
	}
	count, k := binary.Uvarint(b)
	if k <= 0 || count > uint64(len(b)) {
		return nil, fmt.Errorf("%w: import count", errMalformed)
	}
	b = b[k:]
	if epoch > n.applied.Load() {
		n.waitTable(ctx, epoch, time.Now().Add(2*time.Second))
	}
	if t := n.table.Load(); len(t.Partitions) == 0 || !slices.Contains(t.Partitions[p].Learners, n.self) {
		return nil, fmt.Errorf("grid: %s is not a learner of partition %d at epoch %d", n.self, p, t.Epoch)
	}
	pt := n.parts[p]
	r := &pt.repl
	r.bmu.Lock() // setRole takes it too: a role change never interleaves with an import
	defer r.bmu.Unlock()
	if t := n.table.Load(); len(t.Partitions) == 0 || !slices.Contains(t.Partitions[p].Learners, n.self) {
		return nil, fmt.Errorf("grid: %s is no longer a learner of partition %d", n.self, p)
	}
	if reset { // a new attempt: forget whatever an earlier one copied
		pt.store.Store(n.newStore(pt))
	}
	s := n.parts[p].store.Load()
	if s == nil {
		return nil, fmt.Errorf("grid: partition %d has no store here", p)
	}
	for i := uint64(0); i < count; i++ {
		r, rest, err := decodeRecord(b)
		if err != nil {
			return nil, err
		}
		b = rest
		if int(p) != n.Partition(r.Key) {
			return nil, fmt.Errorf("%w: record of another partition", errMalformed)
		}
		if r.Kind == session.KindNone {
			_, err = s.Delete(ctx, r.Key)
		} else {
			err = s.Import(ctx, r)
		}
		if err != nil {
			return nil, err
		}
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errMalformed, len(b))
	}
	if sync {
		r.btenure, r.applied = syncAt[0], syncAt[1]
	}
	return encodeResponse(), nil
}
