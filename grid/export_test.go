package grid

import (
	"context"

	"github.com/sessiongrid/sessiongrid/session/memory"
)

// SetDropBackup makes n lose (not send) the replication messages to the
// members drop selects: a message lost on the network, for tests.
func SetDropBackup(n *Node, drop func(member string) bool) { n.dropBackup.Store(&drop) }

// LocalRecord returns key's record in the copy this member holds, with
// whatever clock that copy has.
func LocalRecord(n *Node, key string) (memory.Record, bool) {
	s := n.parts[n.Partition(key)].store.Load()
	if s == nil {
		return memory.Record{}, false
	}
	return s.Record(key)
}

// StartSwitch asks n, p's primary, to hand p to replica target now.
func StartSwitch(n *Node, p int, target string) { n.startSwitch(p, target) }

// Request and response of one operation on the wire, for tests of handleOp.
const MsgOp = msgOp

// EncodeGet encodes a Get of (id, key) for partition p at epoch.
func EncodeGet(epoch uint64, p int, id, key string) []byte {
	return request{op: opGet, epoch: epoch, partition: p, args: bs(id, key)}.encode()
}

// EncodeSave encodes a Save of one field.
func EncodeSave(epoch uint64, p int, id, key, value string) []byte {
	return request{op: opSave, epoch: epoch, partition: p, args: bs(id, key, value)}.encode()
}

// DecodeRedirect reports whether b is a redirect and its epoch.
func DecodeRedirect(b []byte) (bool, uint64, error) {
	_, redirected, epoch, err := decodeResponse(b)
	return redirected, epoch, err
}

// CheckNow sends a digest of partition p down its replication stream now.
func CheckNow(n *Node, p int) { n.checkPartition(p) }

// LocalDelete deletes key from the copy this member holds, behind
// replication's back (a copy gone wrong).
func LocalDelete(n *Node, key string) {
	if s := n.parts[n.Partition(key)].store.Load(); s != nil {
		s.Delete(context.Background(), key)
	}
}

// PausePlanning stops (or restarts) n's planning while it coordinates.
func PausePlanning(n *Node, paused bool) { n.planPaused.Store(paused) }

// ServeLocalRead runs read as n's local read of key (serveLocal), as a
// primary serves a read.
func ServeLocalRead(ctx context.Context, n *Node, key string, read func(*memory.Store) error) (bool, error) {
	return n.serveLocal(ctx, n.Partition(key), key, false, read)
}

// LapseLease ends n's lease now, as a takeover's would: a lease of an
// epoch beyond n's table, already over.
func LapseLease(n *Node) {
	n.leaseEpoch.Store(^uint64(0))
	n.leaseUntil.Store(0)
}
