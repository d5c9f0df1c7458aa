package grid

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sessiongrid/sessiongrid/partition"
	"github.com/sessiongrid/sessiongrid/server"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
	"github.com/sessiongrid/sessiongrid/transport"
)

// ServerBackend is what a RESP server serves in cluster mode: the member's
// router (server.Backend) with the server.Cluster capability behind the
// GRID.* commands, INFO cluster and HTTP /cluster.
type ServerBackend struct {
	*Router
	m *Member
}

// NewServerBackend returns the RESP backend of member m.
func NewServerBackend(m *Member) *ServerBackend {
	return &ServerBackend{Router: m.Node.Router(nil), m: m}
}

var (
	_ server.Backend   = (*ServerBackend)(nil)
	_ server.Cluster   = (*ServerBackend)(nil)
	_ server.Forwarder = (*ServerBackend)(nil)
	_ server.Batcher   = (*ServerBackend)(nil)
	_ server.Replicas  = (*ServerBackend)(nil)
)

// Member returns the grid member.
func (b *ServerBackend) Member() *Member { return b.m }

// clientAddrs maps member names to their client addresses.
func (b *ServerBackend) clientAddrs() map[string]string {
	out := map[string]string{}
	for _, mb := range b.m.Cluster.Members() {
		out[identity(mb)] = mb.Addrs.Client
	}
	return out
}

// ClusterTable implements server.Cluster.
func (b *ServerBackend) ClusterTable() (uint64, []string) {
	t := b.m.Node.Table()
	addrs := b.clientAddrs()
	owners := make([]string, len(t.Partitions))
	for p, a := range t.Partitions {
		owners[p] = addrs[a.Primary()]
	}
	return t.Epoch, owners
}

// ClusterOwner implements server.Cluster.
func (b *ServerBackend) ClusterOwner(key string) (int, string, string) {
	owner := b.m.Node.Owner(key)
	return b.m.Node.Partition(key), nameOf(owner), b.clientAddrs()[owner]
}

// ClusterStatus implements server.Cluster.
func (b *ServerBackend) ClusterStatus(ctx context.Context) server.ClusterStatus {
	t := b.m.Node.Table()
	gs := b.m.Globals.Status(ctx)
	primaries, backups := t.Counts()
	st := server.ClusterStatus{
		Self: b.m.Cluster.Name(), Epoch: t.Epoch, Partitions: b.m.Node.cfg.Partitions,
		Leader: gs.Leader, RaftState: gs.State, Voters: gs.Voters, NonVoters: gs.NonVoters,
		AppliedIndex: gs.AppliedIndex,
		Backups:      t.Backups, AsyncBackups: t.AsyncBackups,
		Promotions:  b.m.Node.metrics.promotions.Load(),
		Resyncs:     b.m.Node.metrics.backupBreaks.Load(),
		Migrations:  b.m.Node.metrics.migrations.Load(),
		BackupBytes: b.m.Node.BackupStats().Bytes,
	}
	for _, mb := range b.m.Cluster.Members() {
		st.Members = append(st.Members, server.ClusterMember{
			Name: mb.Name, ID: mb.ID, Role: string(mb.Role), State: string(mb.State),
			Client: mb.Addrs.Client, Gossip: mb.Gossip, Raft: mb.Addrs.Raft, Transport: mb.Addrs.Transport,
			Primaries: primaries[identity(mb)], Backups: backups[identity(mb)], Version: mb.Version, Leaving: mb.Leaving,
			IsLeader: mb.Name == gs.Leader, IsVoter: slices.Contains(gs.Voters, mb.Name),
			IsThisNode: mb.Name == b.m.Cluster.Name(),
		})
	}
	return st
}

// ReplicationStats reports this member's replication counters (metrics).
func (b *ServerBackend) ReplicationStats() server.ReplicationStats {
	n := b.m.Node
	migrating := 0
	for _, a := range n.Table().Partitions {
		if len(a.Learners) > 0 {
			migrating++
		}
	}
	return server.ReplicationStats{
		Promotions: n.metrics.promotions.Load(), Resyncs: n.metrics.backupBreaks.Load(),
		Migrations: n.metrics.migrations.Load(), Divergences: n.metrics.divergences.Load(),
		Behind: n.behind(), Migrating: migrating, BackupBytes: n.BackupStats().Bytes,
	}
}

// ClusterSafe implements server.Cluster.
func (b *ServerBackend) ClusterSafe(ctx context.Context) server.ClusterSafety {
	st := b.m.Node.Safe(ctx)
	return server.ClusterSafety{
		Safe: st.Safe, Reason: st.Reason, Epoch: st.Epoch, Backups: st.Backups, AsyncBackups: st.AsyncBackups,
		Short: st.Short, Migrating: st.Migrating, Behind: st.Behind, Unreached: st.Unreached,
	}
}

// Stats reports the partitions this member holds (INFO keyspace, metrics).
func (b *ServerBackend) Stats() memory.Stats { return b.m.Node.Stats() }

// Executor runs RESP commands as a client of the given RESP version would
// and returns one reply each (server.Server.ExecBatch).
type Executor func(proto int, cmds [][][]byte) [][]byte

// BeginBatch implements server.Batcher: the writes made with the returned
// context replicate together when commit runs.
func (b *ServerBackend) BeginBatch(ctx context.Context) (context.Context, func() error) {
	uctx, u := b.m.Node.BeginUnit(ctx)
	return uctx, func() error { return u.Commit(ctx) }
}

// ServeForwarded makes this member run the pipelined batches other
// members forward to it, through exec (the member's own RESP server).
// Call it once the server exists; until then forwarded batches fail and
// their senders report the commands as unavailable.
func (b *ServerBackend) ServeForwarded(exec Executor) {
	b.m.Transport.Handle(msgRESP, func(_ context.Context, req []byte) ([]byte, error) {
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
		return appendList(nil, exec(proto, batch)...), nil
	})
}

// RemoteOwner implements server.Forwarder.
func (b *ServerBackend) RemoteOwner(key []byte) string {
	if owner := b.m.Node.Owner(string(key)); owner != b.m.Node.self {
		return owner
	}
	return ""
}

// Forward implements server.Forwarder.
func (b *ServerBackend) Forward(ctx context.Context, owner string, proto int, cmds [][][]byte) ([][]byte, error) {
	addr := b.m.Node.addrOf(owner)
	if addr == "" {
		return nil, fmt.Errorf("%w: owner %q is not a reachable member", session.ErrUnavailable, owner)
	}
	req := []byte{byte(proto)}
	enc := make([][]byte, len(cmds))
	for i, c := range cmds {
		enc[i] = appendList(nil, c...)
	}
	req = appendList(req, enc...)
	resp, err := b.m.Transport.Call(ctx, addr, msgRESP, req)
	if errors.Is(err, transport.ErrConnect) {
		return nil, fmt.Errorf("%w: %w", server.ErrNotSent, err)
	}
	if err != nil {
		return nil, err
	}
	replies, rest, err := decodeList(resp)
	if err != nil || len(rest) != 0 || len(replies) != len(cmds) {
		return nil, fmt.Errorf("%w: forwarded batch reply", errMalformed)
	}
	return replies, nil
}

// InSyncBackups implements server.Replicas (WAIT): the synchronous
// backups of key's partition in the table in force. A write is
// acknowledged only once every one of them holds it, so they all hold the
// connection's last acknowledged write. A nil key asks for the smallest
// count over every partition.
func (b *ServerBackend) InSyncBackups(key []byte) int {
	t := b.m.Node.Table()
	count := func(a partition.Assignment) int { return max(0, min(len(a.Replicas)-1, t.Backups)) }
	if len(t.Partitions) == 0 {
		return 0
	}
	if key != nil {
		return count(t.Partitions[b.m.Node.Partition(string(key))])
	}
	least := -1
	for _, a := range t.Partitions {
		if n := count(a); least < 0 || n < least {
			least = n
		}
	}
	return least
}
