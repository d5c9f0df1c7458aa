package grid

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/session"
)

// What a member reports about itself, for the RESP server's GRID.* and INFO
// commands, HTTP /cluster and metrics (package gridserver serves them).

// Identity returns the table's name of one start of a member: "name#id".
func Identity(m cluster.Member) string { return identity(m) }

// NameOf returns the member name of an identity ("name#id" → "name").
func NameOf(id string) string { return nameOf(id) }

// Self returns this member's identity.
func (n *Node) Self() string { return n.self }

// Partitions returns the grid's partition count.
func (n *Node) Partitions() int { return n.cfg.Partitions }

// ReplicationStats are a member's replication counters.
type ReplicationStats struct {
	Promotions  uint64 // partitions taken over here from a failed or leaving primary
	Resyncs     uint64 // backup copies that fell behind and were resynced
	Migrations  uint64 // learners filled by this member
	Divergences uint64 // backup copies found different from their primary's
	Behind      int    // backup links of this member being resynced now
	Migrating   int    // partitions with a learner in the table in force
	BackupBytes int64  // payload bytes of the backup copies held here
}

// ReplicationStats reports this member's replication counters.
func (n *Node) ReplicationStats() ReplicationStats {
	migrating := 0
	for _, a := range n.Table().Partitions {
		if len(a.Learners) > 0 {
			migrating++
		}
	}
	return ReplicationStats{
		Promotions: n.metrics.promotions.Load(), Resyncs: n.metrics.backupBreaks.Load(),
		Migrations: n.metrics.migrations.Load(), Divergences: n.metrics.divergences.Load(),
		Behind: n.behind(), Migrating: migrating, BackupBytes: n.BackupStats().Bytes,
	}
}

// Executor runs RESP commands as a client of the given RESP version would
// and returns one reply each (server.Server.ExecBatch).
type Executor func(proto int, cmds [][][]byte) [][]byte

// ServeForwarded makes this member run the pipelined batches other members
// forward to it (ForwardBatch) through exec, the member's own RESP server.
// Call it once the server exists; until then forwarded batches fail and
// their senders report the commands as unavailable.
func (n *Node) ServeForwarded(exec Executor) {
	n.tr.Handle(msgRESP, func(_ context.Context, req []byte) ([]byte, error) {
		if len(req) < 1 || (req[0] != 2 && req[0] != 3) {
			return nil, fmt.Errorf("%w: RESP version", errMalformed)
		}
		proto := int(req[0])
		cmds, rest, err := decodeList(req[1:])
		if err != nil || len(rest) != 0 {
			return nil, fmt.Errorf("%w: forwarded batch", errMalformed)
		}
		batch := make([][][]byte, len(cmds))
		for i, c := range cmds {
			args, rest, err := decodeList(c)
			if err != nil || len(rest) != 0 || len(args) == 0 {
				return nil, fmt.Errorf("%w: forwarded command", errMalformed)
			}
			batch[i] = args
		}
		replies := exec(proto, batch)
		return appendList(make([]byte, 0, listSize(replies...)), replies...), nil
	})
}

// ForwardBatch runs cmds (RESP commands of a client speaking proto) on
// owner, a member identity, and returns one reply each.
func (n *Node) ForwardBatch(ctx context.Context, owner string, proto int, cmds [][][]byte) ([][]byte, error) {
	addr := n.addrOf(owner)
	if addr == "" {
		return nil, fmt.Errorf("%w: owner %q is not a reachable member", session.ErrUnavailable, owner)
	}
	// One buffer of the exact size: the batch is a list of lists, each
	// command's encoding written in place (no per-command buffers).
	size := 1 + uvarintLen(uint64(len(cmds)))
	for _, c := range cmds {
		n := listSize(c...)
		size += uvarintLen(uint64(n)) + n
	}
	req := make([]byte, 0, size)
	req = append(req, byte(proto))
	req = binary.AppendUvarint(req, uint64(len(cmds)))
	for _, c := range cmds {
		req = binary.AppendUvarint(req, uint64(listSize(c...)))
		req = appendList(req, c...)
	}
	resp, err := n.tr.Call(ctx, addr, msgRESP, req)
	if err != nil {
		return nil, err
	}
	replies, rest, err := decodeList(resp)
	if err != nil || len(rest) != 0 || len(replies) != len(cmds) {
		return nil, fmt.Errorf("%w: forwarded batch reply", errMalformed)
	}
	return replies, nil
}
