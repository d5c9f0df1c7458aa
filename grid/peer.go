package grid

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/sessiongrid/sessiongrid/transport"
)

// Group commit of replication: every partition's entries for one backup
// member go into one queue, and one sender per member sends whatever is
// queued as one frame, waits for the reply, and sends again. While a frame
// is in flight the next one fills, so a busy member sends few large frames
// (many partitions' writes each) instead of one frame per write. Entries
// are queued while the partition's wmu is held, so each partition's
// entries are in the queue, and in the frame, in sequence order.

// maxBackupFrame bounds the entries one backup frame carries (the rest wait
// for the next frame).
const maxBackupFrame = 4 << 20

// pitem is one partition's entries for one backup, queued.
type pitem struct {
	pt     *part
	p      int
	tenure uint64
	tg     target
	body   []byte // the encoded entries
	count  int
	last   uint64
	done   chan bool // receives whether the backup applied them
}

// peerQueue is the replication queue to one backup member.
type peerQueue struct {
	member string
	mu     sync.Mutex // guards items
	items  []*pitem
	kick   chan struct{}
	slots  chan struct{} // frames in flight (the backup orders their entries)
}

// framesInFlight bounds the frames in flight to one backup member: more
// than one hides the round trip; the backup applies each partition's
// entries in order whichever frame arrives first.
const framesInFlight = 4

// queueTo returns the queue to member, starting its sender.
func (n *Node) queueTo(member string) *peerQueue {
	n.qmu.Lock()
	defer n.qmu.Unlock()
	q := n.queues[member]
	if q == nil {
		q = &peerQueue{member: member, kick: make(chan struct{}, 1), slots: make(chan struct{}, framesInFlight)}
		n.queues[member] = q
		n.goFunc(func() { n.sendLoop(q) })
	}
	return q
}

// enqueueLocked queues es (of partition p, at tenure) for every target and
// returns the items of the synchronous ones. Callers hold p's wmu.
func (n *Node) enqueueLocked(pt *part, p int, tenure uint64, targets []target, es []entry) []*pitem {
	if len(targets) == 0 || len(es) == 0 {
		return nil
	}
	var body []byte
	for _, e := range es {
		body = appendEntry(body, e)
	}
	var sync []*pitem
	for _, tg := range targets {
		it := &pitem{pt: pt, p: p, tenure: tenure, tg: tg, body: body, count: len(es), last: es[len(es)-1].seq, done: make(chan bool, 1)}
		q := n.queueTo(tg.l.member)
		q.mu.Lock()
		q.items = append(q.items, it)
		q.mu.Unlock()
		select {
		case q.kick <- struct{}{}:
		default:
		}
		if !tg.async {
			sync = append(sync, it)
		}
	}
	return sync
}

// await waits for the items' outcome and reports whether every backup
// applied them. An item not answered by the deadline counts as failed (its
// sender breaks the link when the answer, or the failure, comes).
func (n *Node) await(ctx context.Context, items []*pitem, deadline time.Time) bool {
	if len(items) == 0 {
		return true
	}
	d := time.Until(deadline)
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d) // one timer for all the items
	defer t.Stop()
	for _, it := range items {
		select {
		case r := <-it.done:
			if !r {
				return false
			}
		case <-t.C:
			return false
		case <-ctx.Done():
			return false
		case <-n.stop:
			return false
		}
	}
	return true
}

// sendLoop sends q's items, one frame at a time, until the node stops.
func (n *Node) sendLoop(q *peerQueue) {
	for {
		select {
		case <-n.stop:
			n.failQueue(q)
			return
		case <-q.kick:
		}
		for {
			q.mu.Lock()
			items, size := q.items, 0
			cut := len(items)
			for i, it := range items {
				size += len(it.body)
				if size > maxBackupFrame && i > 0 {
					cut = i
					break
				}
			}
			batch := items[:cut:cut]
			q.items = append([]*pitem(nil), items[cut:]...)
			q.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			select { // a slot of the frames in flight
			case q.slots <- struct{}{}:
			case <-n.stop:
				for _, it := range batch {
					it.done <- false
				}
				n.failQueue(q)
				return
			}
			n.goFunc(func() {
				defer func() { <-q.slots }()
				n.sendFrame(q.member, batch)
			})
		}
	}
}

func (n *Node) failQueue(q *peerQueue) {
	q.mu.Lock()
	items := q.items
	q.items = nil
	q.mu.Unlock()
	for _, it := range items {
		it.done <- false
	}
}

// sendFrame sends one frame of items to member and settles each item.
func (n *Node) sendFrame(member string, items []*pitem) {
	statuses := make([]byte, len(items))
	applied := make([]uint64, len(items))
	for i := range statuses {
		statuses[i] = backupResync
	}
	addr := n.addrOf(member)
	if hook := n.dropBackup.Load(); addr != "" && (hook == nil || !(*hook)(member)) {
		size := 2*binary.MaxVarintLen64 + len(n.self) + 1
		for _, it := range items {
			size += 3*binary.MaxVarintLen64 + len(it.body)
		}
		req := binary.AppendUvarint(make([]byte, 0, size), n.table.Load().Epoch)
		req = appendList(req, []byte(n.self))
		req = binary.AppendUvarint(req, uint64(len(items)))
		for _, it := range items {
			req = binary.AppendUvarint(req, uint64(it.p))
			req = binary.AppendUvarint(req, it.tenure)
			req = binary.AppendUvarint(req, uint64(it.count))
			req = append(req, it.body...)
		}
		ctx, cancel := context.WithTimeout(context.Background(), n.cfg.BackupTimeout)
		resp, err := n.tr.CallLane(ctx, addr, transport.LaneBackup, msgBackup, req)
		cancel()
		if err == nil {
			err = decodeFrameReply(resp, statuses, applied)
		}
		if err != nil {
			for i := range statuses {
				statuses[i] = backupResync
			}
		}
	}
	for i, it := range items {
		it.done <- n.settle(it, statuses[i], applied[i])
	}
}

// settle records a backup's answer for one item on its link.
func (n *Node) settle(it *pitem, status byte, applied uint64) bool {
	r := &it.pt.repl
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if status == backupOK && applied >= it.last {
		if applied > it.tg.l.acked && it.tg.l.gen == it.tg.gen {
			it.tg.l.acked = applied
		}
		return true
	}
	n.breakLocked(it.pt, it.p, it.tg)
	return false
}

// decodeFrameReply reads one status and applied sequence per item.
func decodeFrameReply(b []byte, statuses []byte, applied []uint64) error {
	for i := range statuses {
		if len(b) < 2 || b[0] > backupStale {
			return fmt.Errorf("%w: backup frame reply", errMalformed)
		}
		v, k := binary.Uvarint(b[1:])
		if k <= 0 {
			return fmt.Errorf("%w: backup frame reply", errMalformed)
		}
		statuses[i], applied[i] = b[0], v
		b = b[1+k:]
	}
	if len(b) != 0 {
		return fmt.Errorf("%w: backup frame reply trailing bytes", errMalformed)
	}
	return nil
}
