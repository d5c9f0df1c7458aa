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

func (n *Node) stillMigrating(p int, learner string) bool {
	a := n.table.Load().Partitions[p]
	return a.Primary() == n.self && slices.Contains(a.Learners, learner)
}

func (n *Node) migrate(p int, learner string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-n.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
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

// handoff freezes p, sends the last dirty keys and switches ownership.
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
	epoch, err := n.askCoordinator(ctx, p, learner, false)
	for err != nil {
		// The handoff may or may not have been committed: stay frozen until
		// an abort (or the committed handoff) gives a definite epoch.
		n.logger.Warn("handoff outcome unknown; aborting it", "partition", p, "learner", learner, "err", err)
		select {
		case <-time.After(100 * time.Millisecond):
		case <-n.stop:
			return errors.New("stopped during a handoff")
		}
		epoch, err = n.askCoordinator(ctx, p, learner, true)
	}
	for !n.waitTable(ctx, epoch, time.Now().Add(time.Second)) {
		if n.stopped() {
			return errors.New("stopped during a handoff")
		}
	}
	if n.table.Load().Owner(p) == learner {
		n.logger.Debug("partition handed over", "partition", p, "to", learner, "epoch", epoch)
	}
	return nil
}

// askCoordinator asks the coordinator to hand p over to learner (or, with
// abort, to drop learner) and returns the epoch of the table that settles it.
func (n *Node) askCoordinator(ctx context.Context, p int, learner string, abort bool) (uint64, error) {
	coord := n.log.Coordinator()
	if coord == "" {
		return 0, errors.New("no coordinator")
	}
	req := appendList(nil, u64(uint64(p)), []byte(learner), []byte(n.self), boolb(abort))
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
	if b.count == 0 && !b.reset {
		return nil
	}
	req := append([]byte(nil), boolb(b.reset)...)
	b.reset = false
	req = binary.AppendUvarint(req, b.epoch)
	req = binary.AppendUvarint(req, uint64(b.p))
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
	if len(b) < 1 || b[0] > 1 {
		return nil, fmt.Errorf("%w: import flags", errMalformed)
	}
	reset := b[0] == 1
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
	count, k := binary.Uvarint(b)
	if k <= 0 || count > uint64(len(b)) {
		return nil, fmt.Errorf("%w: import count", errMalformed)
	}
	b = b[k:]
	if epoch > n.table.Load().Epoch {
		n.waitTable(ctx, epoch, time.Now().Add(2*time.Second))
	}
	if !slices.Contains(n.table.Load().Partitions[p].Learners, n.self) {
		return nil, fmt.Errorf("grid: %s is not a learner of partition %d at epoch %d", n.self, p, n.table.Load().Epoch)
	}
	if reset { // a new attempt: forget whatever an earlier one copied
		n.parts[p].store.Store(n.newStore())
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
	return encodeResponse(), nil
}
