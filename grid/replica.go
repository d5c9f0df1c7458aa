package grid

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiongrid/sessiongrid/partition"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
	"github.com/sessiongrid/sessiongrid/transport"
)

// Primary–backup replication of one partition.
//
// The primary serializes the partition's writes (part.wmu): it applies a
// write, numbers it with the partition's next sequence number, takes the
// key's post-image (or a tombstone) and sends it to every backup on the
// backup lane of the transport. Backups apply entries strictly in sequence
// order; a gap they cannot fill within a second, or an entry of another
// tenure (a primary that took over since), makes them answer "resync", and
// the primary then streams them a snapshot taken at a sequence number. A
// write is acknowledged only when every synchronous backup has applied it;
// otherwise it fails with session.ErrUnavailable (outcome unknown) and the
// backup's link is broken until a resync restores it — writes to that
// partition wait for the resync, so every acknowledged write is on every
// synchronous backup.
//
// A key whose last write is not yet on every backup is pending: reads of
// it wait until it is (a read never returns a value a failover could take
// back). Backups keep their copies with a stopped clock (nothing expires on
// a backup): expiry is the primary's decision and reaches backups as
// deletes.

// Message types of replication (0x02xx: the grid's range).
const (
	msgBackup   uint16 = 0x0208 // entries of one partition for a backup (backup lane)
	msgSnapshot uint16 = 0x0209 // a snapshot chunk for a backup being resynced (backup lane)
	msgLease    uint16 = 0x020A // a member renews its lease with the coordinator
	msgHandoff  uint16 = 0x020B // the coordinator asks a primary to hand its partition to a replica
	msgSafe     uint16 = 0x020C // how many of a member's backup links are behind
)

// Entry kinds.
const (
	entryRecord byte = 1 // the key's post-image
	entryDelete byte = 2 // the key is gone
	entryMulti  byte = 3 // several keys' post-images, applied as one (a unit's writes)
)

// Backup reply statuses.
const (
	backupOK     byte = 0
	backupResync byte = 1 // send a snapshot: a gap, another tenure, or a diverged copy
	backupStale  byte = 2 // the sender is not the primary in the backup's table
)

// gapWait bounds how long a backup waits for the entries before one that
// arrived early (they travel concurrently) before it asks for a resync.
const gapWait = time.Second

// entry is one replicated change of one key.
type entry struct {
	seq   uint64
	kind  byte
	key   string
	rec   memory.Record
	multi []entry // entryMulti
	sum   uint64  // entryCheck: the partition's digest
	keys  uint64  // entryCheck: its key count
}

func appendEntry(b []byte, e entry) []byte {
	b = binary.AppendUvarint(b, e.seq)
	b = append(b, e.kind)
	switch e.kind {
	case entryRecord:
		return appendRecord(b, e.rec)
	case entryMulti:
		return appendMulti(b, e.multi)
	case entryCheck:
		b = binary.BigEndian.AppendUint64(b, e.sum)
		return binary.AppendUvarint(b, e.keys)
	}
	return appendList(b, []byte(e.key))
}

func decodeEntry(b []byte) (entry, []byte, error) {
	var e entry
	seq, k := binary.Uvarint(b)
	if k <= 0 || len(b) < k+1 {
		return e, nil, fmt.Errorf("%w: entry header", errMalformed)
	}
	e.seq, e.kind, b = seq, b[k], b[k+1:]
	switch e.kind {
	case entryRecord, entryDelete:
		return decodeKeyEntry(e, b)
	case entryMulti:
		subs, rest, err := decodeMulti(b)
		if err != nil {
			return e, nil, err
		}
		e.multi = subs
		return e, rest, nil
	case entryCheck:
		if len(b) < 8 {
			return e, nil, fmt.Errorf("%w: check entry", errMalformed)
		}
		e.sum = binary.BigEndian.Uint64(b)
		k, n := binary.Uvarint(b[8:])
		if n <= 0 {
			return e, nil, fmt.Errorf("%w: check entry", errMalformed)
		}
		e.keys = k
		return e, b[8+n:], nil
	}
	return e, nil, fmt.Errorf("%w: entry kind %d", errMalformed, e.kind)
}

// decodeKeyEntry decodes the body of a record or delete entry of kind
// e.kind into e.
func decodeKeyEntry(e entry, b []byte) (entry, []byte, error) {
	if e.kind == entryRecord {
		r, rest, err := decodeRecord(b)
		if err != nil {
			return e, nil, err
		}
		if r.Kind != session.KindSession && r.Kind != session.KindString {
			return e, nil, fmt.Errorf("%w: entry record kind", errMalformed)
		}
		e.rec, e.key = r, r.Key
		return e, rest, nil
	}
	items, rest, err := decodeList(b)
	if err != nil || len(items) != 1 {
		return e, nil, fmt.Errorf("%w: entry key", errMalformed)
	}
	e.key = string(items[0])
	return e, rest, nil
}

// link is the primary's view of one backup of a partition. Guarded by the
// partition's wmu.
type link struct {
	member  string
	async   bool
	healthy bool   // applied every entry sent since its last resync
	acked   uint64 // highest sequence number it has applied
	gen     uint64 // bumped each time it breaks
	syncing bool   // a resync goroutine runs
}

// repl is a partition's replication state. The primary's side is guarded
// by wmu, the backup's by bmu.
type repl struct {
	wmu      sync.Mutex
	seq      uint64 // last sequence number given out
	tenure   uint64 // epoch of the table that made this member primary
	links    []*link
	pending  map[string]uint64 // keys whose last write is not on every backup
	handoff  map[string]uint64 // learner promoted by our handoff -> seq it holds
	waiters  int
	changed  chan struct{} // closed when links or pending change, if waiters > 0
	npending atomic.Int64
	hasLinks atomic.Bool

	bmu     sync.Mutex
	btenure uint64 // tenure of the primary whose entries this copy holds
	applied uint64 // last entry applied here as a backup
	bch     chan struct{}
	staging *memory.Store // a snapshot being received
	stageAt [2]uint64     // tenure and seq of the staged snapshot
}

// setPendingLocked marks key's last write as seq, not yet on every backup,
// and returns what it replaced for restorePendingLocked.
func (r *repl) setPendingLocked(key string, seq uint64) (prev uint64, had bool) {
	prev, had = r.pending[key]
	r.pending[key] = seq
	if !had {
		r.npending.Add(1)
	}
	return prev, had
}

// restorePendingLocked undoes setPendingLocked for a write that changed
// nothing.
func (r *repl) restorePendingLocked(key string, prev uint64, had bool) {
	if had {
		r.pending[key] = prev
		return
	}
	delete(r.pending, key)
	r.npending.Add(-1)
}

// clearPendingLocked forgets key's pending write if it is still seq (no
// later write took its place) and reports whether it did.
func (r *repl) clearPendingLocked(key string, seq uint64) bool {
	if r.pending[key] != seq {
		return false
	}
	delete(r.pending, key)
	r.npending.Add(-1)
	return true
}

// backupClock is the time a backup's copy lives at: nothing ever expires.
var backupClock = time.Unix(0, 1)

// clock returns the store clock of a partition: the node's while it is
// primary, stopped while it is a backup.
func (n *Node) clock(pt *part) func() time.Time {
	now := n.cfg.Store.Now
	return func() time.Time {
		if !pt.primary.Load() {
			return backupClock
		}
		return now()
	}
}

// signalLocked wakes the waiters on links or pending keys. Callers hold wmu.
func (r *repl) signalLocked() {
	if r.waiters > 0 && r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
}

// waitLocked registers a waiter and returns the channel to wait on; call
// with wmu held, then unlock, wait, and call doneWaiting.
func (r *repl) waitLocked() <-chan struct{} {
	if r.changed == nil {
		r.changed = make(chan struct{})
	}
	r.waiters++
	return r.changed
}

func (r *repl) doneWaiting() {
	r.wmu.Lock()
	r.waiters--
	r.wmu.Unlock()
}

// waitReadyLocked waits, with wmu held (released while waiting), until
// every synchronous link of pt is healthy or pt is no longer primary here,
// and reports whether the links are ready before the deadline.
func (n *Node) waitReadyLocked(ctx context.Context, pt *part, deadline time.Time) bool {
	r := &pt.repl
	for pt.primary.Load() && !r.readyLocked() {
		ch := r.waitLocked()
		r.wmu.Unlock()
		ok := n.wait(ctx, ch, deadline)
		r.wmu.Lock()
		r.waiters--
		if !ok {
			return false
		}
	}
	return true
}

// readyLocked reports whether every synchronous link is healthy.
func (r *repl) readyLocked() bool {
	for _, l := range r.links {
		if !l.async && !l.healthy {
			return false
		}
	}
	return true
}

// cleanLocked drops the pending keys every synchronous backup now holds.
func (r *repl) cleanLocked() {
	if len(r.pending) == 0 || !r.readyLocked() {
		return
	}
	wm := r.seq
	for _, l := range r.links {
		if !l.async && l.acked < wm {
			wm = l.acked
		}
	}
	for k, s := range r.pending {
		if s <= wm {
			delete(r.pending, k)
			r.npending.Add(-1)
		}
	}
	r.signalLocked()
}

// wait waits on ch until deadline, ctx or the node's stop.
func (n *Node) wait(ctx context.Context, ch <-chan struct{}, deadline time.Time) bool {
	d := time.Until(deadline)
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
	case <-ctx.Done():
	case <-n.stop:
	}
	return false
}

var (
	errBackupsBehind = fmt.Errorf("%w: the partition's backups are being resynced", session.ErrUnavailable)
	errLeaseLost     = fmt.Errorf("%w: this member lost its lease while the write was in flight; the write may or may not have been applied", session.ErrUnavailable)
)

// write runs apply, a write of key on s (partition p's store, this member
// being its leased primary, the partition's gate held shared), and returns
// once every synchronous backup holds the result.
func (n *Node) write(ctx context.Context, pt *part, p int, s *memory.Store, key string, apply func() error) error {
	r := &pt.repl
	if !r.hasLinks.Load() {
		return apply()
	}
	if u := unitOf(ctx); u != nil && u.n == n {
		return n.writeInUnit(pt, p, key, apply, u)
	}
	deadline := time.Now().Add(n.cfg.BackupTimeout)
	r.wmu.Lock()
	if !n.waitReadyLocked(ctx, pt, deadline) {
		r.wmu.Unlock()
		return errBackupsBehind
	}
	r.seq++
	seq := r.seq
	prev, had := r.setPendingLocked(key, seq)
	if err := apply(); err != nil { // nothing changed
		r.seq--
		r.restorePendingLocked(key, prev, had)
		r.wmu.Unlock()
		return err
	}
	tenure := r.tenure
	items := n.enqueueLocked(pt, p, tenure, r.targetsLocked(), []entry{postImage(s, seq, key)})
	r.wmu.Unlock()
	if !n.await(ctx, items, deadline) && !n.waitCommitted(ctx, pt, seq, deadline) {
		return fmt.Errorf("%w: a backup of partition %d did not acknowledge the write; it may or may not have been applied", session.ErrUnavailable, p)
	}
	r.wmu.Lock()
	if r.clearPendingLocked(key, seq) {
		r.signalLocked()
	}
	r.wmu.Unlock()
	if !n.stillPrimary(ctx, pt, p, tenure, deadline) {
		return errLeaseLost
	}
	return nil
}

// stillPrimary reports, after a write's backups acknowledged it, whether
// this member was primary of p under one lease throughout: it holds a lease
// now and leads p with the tenure the write had. A lease that lapsed while
// the write was in flight may come back (a slow renewal): a lease granted
// again is for a table this member must have applied, and a primary that
// lost p and got it back has a new tenure, so an unchanged tenure under a
// valid lease means no other member led p meanwhile.
func (n *Node) stillPrimary(ctx context.Context, pt *part, p int, tenure uint64, deadline time.Time) bool {
	for {
		t := n.table.Load()
		if n.leased(t) {
			pt.repl.wmu.Lock()
			same := pt.repl.tenure == tenure
			pt.repl.wmu.Unlock()
			return same && pt.primary.Load() && t.Owner(p) == n.self
		}
		if time.Now().After(deadline) || ctx.Err() != nil || n.stopped() {
			return false
		}
		n.waitTable(ctx, t.Epoch+1, earlier(deadline, 10*time.Millisecond))
	}
}

// waitCommitted waits, after a backup failed to acknowledge entry seq,
// until every synchronous backup in the table holds it after all: the
// failed backup was resynced, or the table dropped it (a dead member).
func (n *Node) waitCommitted(ctx context.Context, pt *part, seq uint64, deadline time.Time) bool {
	r := &pt.repl
	for {
		r.wmu.Lock()
		if r.committedLocked(seq) {
			r.wmu.Unlock()
			return true
		}
		ch := r.waitLocked()
		r.wmu.Unlock()
		ok := n.wait(ctx, ch, deadline)
		r.doneWaiting()
		if !ok {
			return false
		}
	}
}

// committedLocked reports whether every synchronous backup holds entry seq.
func (r *repl) committedLocked(seq uint64) bool {
	for _, l := range r.links {
		if !l.async && (!l.healthy || l.acked < seq) {
			return false
		}
	}
	return true
}

// postImage returns the entry that makes a backup's key what it is in s.
func postImage(s *memory.Store, seq uint64, key string) entry {
	if rec, ok := s.Record(key); ok {
		return entry{seq: seq, kind: entryRecord, key: key, rec: rec}
	}
	return entry{seq: seq, kind: entryDelete, key: key}
}

// target is a link, its generation and mode when entries were given to it.
type target struct {
	l     *link
	gen   uint64
	async bool
}

func (r *repl) targetsLocked() []target {
	out := make([]target, len(r.links))
	for i, l := range r.links {
		out[i] = target{l, l.gen, l.async}
	}
	return out
}

// breakLocked marks a link behind and starts its resync, unless it broke
// (and maybe recovered) since the failed batch was sent.
func (n *Node) breakLocked(pt *part, p int, tg target) {
	if tg.l.gen != tg.gen || !slices.Contains(pt.repl.links, tg.l) {
		return
	}
	tg.l.gen++
	tg.l.healthy = false
	n.metrics.backupBreaks.Add(1)
	if !tg.l.syncing {
		tg.l.syncing = true
		n.goFunc(func() { n.resync(pt, p, tg.l) })
	}
}

func decodeBackupReply(b []byte) (byte, uint64, error) {
	if len(b) < 2 || b[0] > backupStale {
		return 0, 0, fmt.Errorf("%w: backup reply", errMalformed)
	}
	v, k := binary.Uvarint(b[1:])
	if k <= 0 || k != len(b)-1 {
		return 0, 0, fmt.Errorf("%w: backup reply", errMalformed)
	}
	return b[0], v, nil
}

func backupReply(status byte, applied uint64) []byte {
	return binary.AppendUvarint([]byte{status}, applied)
}

// resync brings a broken link back: a snapshot of the partition at a
// sequence number, taken while writes wait, then streamed to the backup,
// which swaps it in whole. It retries until the link is healthy, gone, or
// the node stops.
func (n *Node) resync(pt *part, p int, l *link) {
	r := &pt.repl
	ctx, cancel := n.stopContext()
	defer cancel()
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			select {
			case <-n.stop:
				return
			case <-time.After(time.Duration(min(attempt, 10)) * 50 * time.Millisecond):
			}
		}
		r.wmu.Lock()
		s := pt.store.Load()
		if !slices.Contains(r.links, l) || l.healthy || s == nil || n.stopped() {
			l.syncing = false
			r.wmu.Unlock()
			return
		}
		gen, seq, tenure := l.gen, r.seq, r.tenure
		var recs []memory.Record
		err := s.Export(ctx, nil, func(rec memory.Record) error { recs = append(recs, rec); return nil })
		r.wmu.Unlock()
		var applied uint64
		if err == nil {
			applied, err = n.sendSnapshot(ctx, p, l.member, tenure, seq, recs)
		}
		r.wmu.Lock()
		if err == nil && l.gen == gen && slices.Contains(r.links, l) {
			l.healthy, l.syncing = true, false
			l.acked = applied // what the backup holds now, exactly
			r.cleanLocked()
			r.signalLocked()
			r.wmu.Unlock()
			n.logger.Debug("backup resynced", "partition", p, "backup", l.member, "seq", seq, "records", len(recs))
			return
		}
		r.wmu.Unlock()
		if err != nil && attempt%10 == 9 {
			n.logger.Warn("backup resync failing", "partition", p, "backup", l.member, "err", err)
		}
	}
}

// sendSnapshot streams recs to member in chunks of about BatchBytes and
// returns the sequence number the backup holds after it.
func (n *Node) sendSnapshot(ctx context.Context, p int, member string, tenure, seq uint64, recs []memory.Record) (uint64, error) {
	addr := n.addrOf(member)
	if addr == "" {
		return 0, fmt.Errorf("backup %q has no address", member)
	}
	if hook := n.dropBackup.Load(); hook != nil && (*hook)(member) {
		return 0, errors.New("dropped by a test hook")
	}
	var applied uint64
	first := true
	for i := 0; first || i < len(recs); {
		var body []byte
		count := 0
		for ; i < len(recs) && len(body) < n.cfg.BatchBytes; i++ {
			body = appendRecord(body, recs[i])
			count++
		}
		var flags byte
		if first {
			flags |= 1
		}
		if i >= len(recs) {
			flags |= 2
		}
		first = false
		req := binary.AppendUvarint(nil, n.table.Load().Epoch)
		req = appendList(req, []byte(n.self))
		req = binary.AppendUvarint(req, uint64(p))
		req = binary.AppendUvarint(req, tenure)
		req = binary.AppendUvarint(req, seq)
		req = append(req, flags)
		req = binary.AppendUvarint(req, uint64(count))
		req = append(req, body...)
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		resp, err := n.tr.CallLane(cctx, addr, transport.LaneBackup, msgSnapshot, req)
		cancel()
		if err != nil {
			return 0, err
		}
		status, a, err := decodeBackupReply(resp)
		if err != nil {
			return 0, err
		}
		if status != backupOK {
			return 0, fmt.Errorf("backup refused the snapshot (status %d)", status)
		}
		applied = a
	}
	if applied < seq {
		return 0, fmt.Errorf("backup holds %d after a snapshot at %d", applied, seq)
	}
	return applied, nil
}

// backupHeader is the common head of msgBackup and msgSnapshot.
type backupHeader struct {
	epoch  uint64
	sender string
	p      int
	tenure uint64
}

func (n *Node) decodeBackupHeader(b []byte) (backupHeader, []byte, error) {
	var h backupHeader
	e, k := binary.Uvarint(b)
	if k <= 0 {
		return h, nil, fmt.Errorf("%w: backup epoch", errMalformed)
	}
	h.epoch, b = e, b[k:]
	items, b, err := decodeList(b)
	if err != nil || len(items) != 1 || len(items[0]) > 1024 {
		return h, nil, fmt.Errorf("%w: backup sender", errMalformed)
	}
	h.sender = string(items[0])
	p, k := binary.Uvarint(b)
	if k <= 0 || p >= uint64(n.cfg.Partitions) {
		return h, nil, fmt.Errorf("%w: backup partition", errMalformed)
	}
	h.p, b = int(p), b[k:]
	t, k := binary.Uvarint(b)
	if k <= 0 {
		return h, nil, fmt.Errorf("%w: backup tenure", errMalformed)
	}
	h.tenure = t
	return h, b[k:], nil
}

// backupOfLocked reports whether, in the table in force here, sender is
// p's primary and this member one of its backups. Callers hold bmu, which
// applyTable takes to change a partition's role: an entry is never applied
// to a copy that has become primary meanwhile.
func (n *Node) backupOfLocked(p int, sender string) bool {
	t := n.table.Load()
	if len(t.Partitions) == 0 {
		return false
	}
	a := t.Partitions[p]
	return a.Primary() == sender && slices.Contains(a.Replicas[1:], n.self)
}

// handleBackup applies a primary's frame: entries of one or more
// partitions, each partition's in sequence order. The reply has one status
// and applied sequence number per partition group.
func (n *Node) handleBackup(ctx context.Context, b []byte) ([]byte, error) {
	epoch, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, fmt.Errorf("%w: backup epoch", errMalformed)
	}
	b = b[k:]
	items, b, err := decodeList(b)
	if err != nil || len(items) != 1 || len(items[0]) > 1024 {
		return nil, fmt.Errorf("%w: backup sender", errMalformed)
	}
	sender := string(items[0])
	ng, k := binary.Uvarint(b)
	if k <= 0 || ng > uint64(len(b)) {
		return nil, fmt.Errorf("%w: backup group count", errMalformed)
	}
	b = b[k:]
	type group struct {
		p      int
		tenure uint64
		es     []entry
	}
	groups := make([]group, 0, ng)
	for g := uint64(0); g < ng; g++ {
		p, k := binary.Uvarint(b)
		if k <= 0 || p >= uint64(n.cfg.Partitions) {
			return nil, fmt.Errorf("%w: backup partition", errMalformed)
		}
		b = b[k:]
		tenure, k := binary.Uvarint(b)
		if k <= 0 {
			return nil, fmt.Errorf("%w: backup tenure", errMalformed)
		}
		b = b[k:]
		count, k := binary.Uvarint(b)
		if k <= 0 || count > uint64(len(b)) {
			return nil, fmt.Errorf("%w: backup count", errMalformed)
		}
		b = b[k:]
		es := make([]entry, 0, count)
		for i := uint64(0); i < count; i++ {
			e, rest, err := decodeEntry(b)
			if err != nil {
				return nil, err
			}
			keys := []entry{e}
			switch e.kind {
			case entryMulti:
				keys = e.multi
			case entryCheck:
				keys = nil
			}
			for _, k := range keys {
				if partition.ID(k.key, n.cfg.Partitions) != int(p) || session.ValidateID(k.key) != nil {
					return nil, fmt.Errorf("%w: entry of another partition", errMalformed)
				}
			}
			es = append(es, e)
			b = rest
		}
		groups = append(groups, group{int(p), tenure, es})
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errMalformed, len(b))
	}
	if epoch > n.applied.Load() {
		n.waitTable(ctx, epoch, time.Now().Add(time.Second))
	}
	deadline := time.Now().Add(gapWait)
	out := make([]byte, 0, 4*len(groups))
	for _, g := range groups {
		status, applied := n.applyGroup(ctx, sender, g.p, g.tenure, g.es, deadline)
		out = append(out, status)
		out = binary.AppendUvarint(out, applied)
	}
	return out, nil
}

// applyGroup applies one partition's entries from sender, in order.
func (n *Node) applyGroup(ctx context.Context, sender string, p int, tenure uint64, es []entry, deadline time.Time) (byte, uint64) {
	pt := n.parts[p]
	r := &pt.repl
	r.bmu.Lock()
	defer r.bmu.Unlock()
	for _, e := range es {
		for {
			if !n.backupOfLocked(p, sender) {
				return backupStale, r.applied
			}
			if r.btenure != tenure {
				return backupResync, r.applied
			}
			if e.seq <= r.applied {
				break // a duplicate
			}
			if e.seq == r.applied+1 {
				s := pt.store.Load()
				if s == nil {
					return backupResync, r.applied
				}
				if e.kind == entryCheck {
					if sum, keys := digest(s); sum != e.sum || keys != e.keys {
						n.logger.Warn("backup copy differs from its primary's; asking for a resync", "partition", p,
							"keys", keys, "primary_keys", e.keys)
						n.metrics.divergences.Add(1)
						return backupResync, r.applied
					}
				} else if err := applyEntry(ctx, s, e); err != nil {
					n.logger.Error("backup entry failed to apply", "partition", p, "key", e.key, "err", err)
					return backupResync, r.applied
				}
				r.applied = e.seq
				if r.bch != nil {
					close(r.bch)
					r.bch = nil
				}
				break
			}
			if r.bch == nil {
				r.bch = make(chan struct{})
			}
			ch := r.bch
			r.bmu.Unlock()
			ok := n.wait(ctx, ch, deadline)
			r.bmu.Lock()
			if !ok {
				return backupResync, r.applied
			}
		}
	}
	return backupOK, r.applied
}

func applyEntry(ctx context.Context, s *memory.Store, e entry) error {
	if e.kind == entryMulti {
		return applyMulti(ctx, s, e.multi)
	}
	if e.kind == entryDelete {
		_, err := s.Delete(ctx, e.key)
		return err
	}
	return s.Import(ctx, e.rec)
}

// handleSnapshot receives a snapshot chunk; the last one swaps the copy.
func (n *Node) handleSnapshot(ctx context.Context, b []byte) ([]byte, error) {
	h, b, err := n.decodeBackupHeader(b)
	if err != nil {
		return nil, err
	}
	seq, k := binary.Uvarint(b)
	if k <= 0 || len(b) < k+1 || b[k] > 3 {
		return nil, fmt.Errorf("%w: snapshot header", errMalformed)
	}
	first, last := b[k]&1 != 0, b[k]&2 != 0
	b = b[k+1:]
	count, k := binary.Uvarint(b)
	if k <= 0 || count > uint64(len(b)) {
		return nil, fmt.Errorf("%w: snapshot count", errMalformed)
	}
	b = b[k:]
	recs := make([]memory.Record, 0, count)
	for i := uint64(0); i < count; i++ {
		rec, rest, err := decodeRecord(b)
		if err != nil {
			return nil, err
		}
		if partition.ID(rec.Key, n.cfg.Partitions) != h.p {
			return nil, fmt.Errorf("%w: record of another partition", errMalformed)
		}
		recs = append(recs, rec)
		b = rest
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errMalformed, len(b))
	}
	if h.epoch > n.applied.Load() {
		n.waitTable(ctx, h.epoch, time.Now().Add(time.Second))
	}
	pt := n.parts[h.p]
	r := &pt.repl
	r.bmu.Lock()
	defer r.bmu.Unlock()
	if !n.backupOfLocked(h.p, h.sender) {
		return backupReply(backupStale, r.applied), nil
	}
	if first {
		r.staging = n.newStore(pt)
		r.stageAt = [2]uint64{h.tenure, seq}
	} else if r.staging == nil || r.stageAt != [2]uint64{h.tenure, seq} {
		return backupReply(backupResync, r.applied), nil
	}
	for _, rec := range recs {
		if err := r.staging.Import(ctx, rec); err != nil {
			r.staging = nil
			return nil, err
		}
	}
	if last {
		// A copy of the same tenure that applied entries past the snapshot
		// is newer than it (entries apply in order): keep it, never go back.
		if r.btenure != h.tenure || r.applied < seq {
			pt.store.Store(r.staging)
			r.btenure, r.applied = h.tenure, seq
		}
		r.staging = nil
		if r.bch != nil {
			close(r.bch)
			r.bch = nil
		}
	}
	return backupReply(backupOK, r.applied), nil
}

// readBarrier waits until key has no write that some synchronous backup
// lacks, and reports whether the read must run again (it may have seen such
// a write).
func (n *Node) readBarrier(ctx context.Context, pt *part, p int, key string) (again bool, err error) {
	r := &pt.repl
	if r.npending.Load() == 0 {
		return false, nil
	}
	deadline := time.Now().Add(n.cfg.BackupTimeout)
	u := unitOf(ctx)
	for {
		r.wmu.Lock()
		seq, ok := r.pending[key]
		if !ok || (seq == unitMark && u != nil && u.has(p, key)) { // none, or the caller's own
			r.wmu.Unlock()
			return again, nil
		}
		again = true
		ch := r.waitLocked()
		r.wmu.Unlock()
		ok = n.wait(ctx, ch, deadline)
		r.doneWaiting()
		if !ok {
			return false, fmt.Errorf("%w: partition %d: the last write of this key is not yet on its backups", session.ErrUnavailable, p)
		}
	}
}

// afterRead replicates what a read changed on the primary: a session whose
// idle timer a read slid (TouchOnRead), or an expired key the read found
// gone, which must be gone on the backups too before the reply says so.
func (n *Node) afterRead(ctx context.Context, pt *part, p int, s *memory.Store, key string) error {
	if key == "" || !pt.repl.hasLinks.Load() {
		return nil
	}
	if s.Expired(key) {
		return n.write(ctx, pt, p, s, key, func() error { _, err := s.Delete(ctx, key); return err })
	}
	if n.cfg.Store.TouchOnRead {
		if _, ok := s.Touched(key); ok {
			return n.write(ctx, pt, p, s, key, func() error { return nil })
		}
	}
	return nil
}

// sweepReplicated removes the expired keys of a partition this member
// leads and sends their deletes to the backups.
func (n *Node) sweepReplicated(p int) {
	pt := n.parts[p]
	r := &pt.repl
	pt.gate.RLock()
	defer pt.gate.RUnlock()
	s := pt.store.Load()
	t := n.table.Load()
	if s == nil || len(t.Partitions) == 0 || t.Owner(p) != n.self || !n.leased(t) {
		return
	}
	if !r.hasLinks.Load() {
		s.Sweep(context.Background())
		return
	}
	r.wmu.Lock()
	if !r.readyLocked() {
		r.wmu.Unlock()
		return // swept once the backups are back
	}
	var es []entry
	s.SweepFunc(func(key string) {
		r.seq++
		es = append(es, entry{seq: r.seq, kind: entryDelete, key: key})
		r.setPendingLocked(key, r.seq)
	})
	items := n.enqueueLocked(pt, p, r.tenure, r.targetsLocked(), es)
	r.wmu.Unlock()
	if len(es) == 0 {
		return
	}
	if n.await(context.Background(), items, time.Now().Add(n.cfg.BackupTimeout)) {
		r.wmu.Lock()
		for _, e := range es {
			r.clearPendingLocked(e.key, e.seq)
		}
		r.signalLocked()
		r.wmu.Unlock()
	}
}

// setLinksLocked starts p's primary side here at tenure, continuing
// the sequence of the copy held as a backup. Every backup is resynced
// first (it holds another tenure), except learners this member promoted
// itself. Callers hold wmu and bmu.
func (n *Node) setLinksLocked(pt *part, p int, t partition.Table, becoming, handedOver bool) {
	r := &pt.repl
	a := t.Partitions[p]
	if becoming {
		r.seq, r.tenure = r.applied, t.Epoch
		if handedOver {
			r.tenure = r.btenure
		}
		r.links = nil
		if r.pending == nil {
			r.pending = map[string]uint64{}
		}
	}
	old := r.links
	r.links = nil
	for i, m := range a.Replicas[1:] {
		// Replicas past the synchronous count are asynchronous only when the
		// grid has asynchronous backups; otherwise the replicas a migration
		// adds beyond the count are synchronous too, so that dropping one
		// never leaves a lagging copy in a synchronous place.
		async := t.AsyncBackups > 0 && i >= t.Backups
		var l *link
		for _, o := range old {
			if o.member == m {
				l = o
			}
		}
		if l == nil {
			l = &link{member: m, healthy: handedOver} // after a hand-over a lagging backup finds a gap and asks for a resync
			if s, ok := r.handoff[m]; ok {
				l.healthy, l.acked = true, s
			}
		}
		l.async = async
		r.links = append(r.links, l)
		if !l.healthy && !l.syncing {
			l.syncing = true
			n.goFunc(func() { n.resync(pt, p, l) })
		}
	}
	clear(r.handoff)
	r.hasLinks.Store(len(r.links) > 0)
	if len(r.links) == 0 && len(r.pending) > 0 {
		clear(r.pending)
		r.npending.Store(0)
	}
	r.cleanLocked()
	r.signalLocked()
}

// dropPrimaryLocked ends p's primary side here (the partition moved or the
// member no longer holds it). Callers hold wmu and bmu.
func dropPrimaryLocked(r *repl) {
	r.links = nil
	r.hasLinks.Store(false)
	clear(r.pending)
	r.npending.Store(0)
	r.signalLocked()
}

// ---- leases ----

// mono returns the node's monotonic clock.
func (n *Node) mono() int64 { return int64(time.Since(n.start)) }

// leased reports whether this member holds a lease valid for table t.
func (n *Node) leased(t *partition.Table) bool {
	return n.mono() < n.leaseUntil.Load() && t.Epoch >= n.leaseEpoch.Load()
}

func (n *Node) leasedNow() bool { return n.leased(n.table.Load()) }

// leaseLoop renews this member's lease with the coordinator four times a
// lease.
func (n *Node) leaseLoop() {
	every := max(n.cfg.LeaseDuration/4, 5*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n.renewLease()
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
	}
}

func (n *Node) renewLease() {
	sent := n.mono()
	coord := n.coordinator()
	var epoch uint64
	switch {
	case coord == "":
		return
	case coord == n.self:
		e, ok := n.grantLease(n.self)
		if !ok {
			return
		}
		epoch = e
	default:
		addr := n.addrOf(coord)
		if addr == "" {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), n.cfg.LeaseDuration/2)
		b, err := n.tr.Call(ctx, addr, msgLease, []byte(n.self))
		cancel()
		if err != nil {
			n.logger.Debug("lease renewal failed", "coordinator", coord, "err", err)
			return
		}
		if epoch, err = getU64(b); err != nil {
			return
		}
	}
	n.leaseEpoch.Store(epoch)
	n.leaseUntil.Store(sent + int64(n.cfg.LeaseDuration))
}

// grantLease runs on the coordinator: member may serve for a lease from
// now, once it applies the epoch returned.
func (n *Node) grantLease(member string) (uint64, bool) {
	if !n.log.IsCoordinator() {
		return 0, false
	}
	if _, alive := n.aliveMembers()[member]; !alive {
		return 0, false
	}
	now := n.mono()
	n.lmu.Lock()
	n.coordTenureLocked(now)
	n.grants[member] = now
	n.lmu.Unlock()
	return n.log.Current().Epoch, true
}

func (n *Node) handleLease(_ context.Context, b []byte) ([]byte, error) {
	if len(b) == 0 || len(b) > 1024 {
		return nil, fmt.Errorf("%w: lease request", errMalformed)
	}
	epoch, ok := n.grantLease(string(b))
	if !ok {
		return nil, fmt.Errorf("%w: %s does not grant a lease to %q", session.ErrUnavailable, n.self, b)
	}
	return u64(epoch), nil
}

// coordTenureLocked notes when this member became coordinator: it knows
// nothing of the leases its predecessor granted, so it counts every lease
// as granted then. Callers hold lmu.
func (n *Node) coordTenureLocked(now int64) {
	if !n.coordinating {
		n.coordinating = true
		n.coordSince = now
		clear(n.grants)
	}
}

// leaseMayHold reports, on the coordinator, whether member may still hold a
// lease: its last grant plus the lease and a margin for clock-rate drift
// (1/8 of the lease plus 50 ms) has not passed yet.
func (n *Node) leaseMayHold(member string) bool {
	now := n.mono()
	n.lmu.Lock()
	defer n.lmu.Unlock()
	n.coordTenureLocked(now)
	since := max(n.grants[member], n.coordSince)
	l := int64(n.cfg.LeaseDuration)
	return now < since+l+l/8+int64(50*time.Millisecond)
}
