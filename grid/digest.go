package grid

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// Anti-entropy. Now and then a primary computes a digest of a partition
// (while its writes wait) and sends it down the partition's replication
// stream as an entry of its own: each backup, reaching that entry in
// sequence order, holds exactly the primary's state at that point, so it
// compares its own digest and, on a difference, answers "resync" — the
// primary then streams it a snapshot. A copy that diverged for any reason
// (a bug, a lost update, memory corruption) converges within a pass.

// entryCheck carries the digest of the partition after the entries before
// it (kind, then the digest as 8 bytes, then the key count).
const entryCheck byte = 4

// digest is an order-independent hash of a copy: the sum of one hash per
// key (its kind, times and value) and one per field (not the last touch,
// which reads slide).
func digest(s *memory.Store) (sum uint64, keys uint64) {
	var buf []byte
	s.Each(func(r memory.Record) {
		keys++
		buf = append(buf[:0], r.Key...)
		buf = append(buf, 0, byte(r.Kind))
		buf = binary.AppendVarint(buf, int64(r.Idle))
		buf = binary.AppendVarint(buf, unixNano(r.Deadline))
		buf = append(buf, r.Value...)
		sum += xxhash.Sum64(buf)
		for tag, fs := range map[byte][]session.Field{'d': r.Data, 'p': r.Props} {
			for _, f := range fs {
				buf = append(buf[:0], r.Key...)
				buf = append(buf, 0, tag)
				buf = binary.AppendUvarint(buf, uint64(len(f.Key)))
				buf = append(buf, f.Key...)
				buf = append(buf, f.Value...)
				sum += xxhash.Sum64(buf)
			}
		}
	})
	return sum, keys
}

// checkPartition sends a digest of p down its stream, if this member leads
// p and its backups are in sync.
func (n *Node) checkPartition(p int) {
	pt := n.parts[p]
	r := &pt.repl
	if !pt.primary.Load() || !r.hasLinks.Load() {
		return
	}
	r.wmu.Lock()
	s := pt.store.Load()
	if !pt.primary.Load() || s == nil || !r.readyLocked() || len(r.links) == 0 {
		r.wmu.Unlock()
		return
	}
	sum, keys := digest(s)
	r.seq++
	e := entry{seq: r.seq, kind: entryCheck, sum: sum, keys: keys}
	items := n.enqueueLocked(pt, p, r.tenure, r.targetsLocked(), []entry{e})
	r.wmu.Unlock()
	n.await(context.Background(), items, time.Now().Add(n.cfg.BackupTimeout))
}

// antiEntropyLoop checks one partition this member leads per tick, every
// partition once per Config.AntiEntropyInterval.
func (n *Node) antiEntropyLoop() {
	if n.cfg.AntiEntropyInterval < 0 {
		return
	}
	t := time.NewTicker(max(n.cfg.AntiEntropyInterval/time.Duration(len(n.parts)), time.Millisecond))
	defer t.Stop()
	for p := 0; ; p = (p + 1) % len(n.parts) {
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
		n.checkPartition(p)
	}
}
