package gridserver

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sessiongrid/sessiongrid/grid"
	"github.com/sessiongrid/sessiongrid/partition"
	"github.com/sessiongrid/sessiongrid/server"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
	"github.com/sessiongrid/sessiongrid/transport"
)

// Backend is what a RESP server serves in cluster mode: the member's router
// (server.Backend) with the server.Cluster capability behind the GRID.*
// commands, INFO cluster and HTTP /cluster, forwarding (server.Forwarder)
// and replicated batches (server.Batcher).
type Backend struct {
	*grid.Router
	m *grid.Member
}

// New returns the RESP backend of member m.
func New(m *grid.Member) *Backend {
	return &Backend{Router: m.Node.Router(nil), m: m}
}

var (
	_ server.Backend   = (*Backend)(nil)
	_ server.Cluster   = (*Backend)(nil)
	_ server.Forwarder = (*Backend)(nil)
	_ server.Batcher   = (*Backend)(nil)
	_ server.Replicas  = (*Backend)(nil)

	_ server.WriteWatcher = (*Backend)(nil)

	_ server.Broadcaster = (*Backend)(nil)

	_ prometheus.Collector = (*Backend)(nil) // replication metrics (metrics.go)
	_ session.Watcher      = (*Backend)(nil)
)

// Broadcast implements server.Broadcaster over the internal transport.
func (b *Backend) Broadcast(channel, message []byte) { b.m.Node.Broadcast(channel, message) }

// OnBroadcast implements server.Broadcaster.
func (b *Backend) OnBroadcast(fn func(channel, message []byte)) { b.m.Node.OnBroadcast(fn) }

// PubsubStats implements server.PubsubStatser.
func (b *Backend) PubsubStats() (dropped, failed uint64) { return b.m.Node.PubsubStats() }

// Member returns the grid member.
func (b *Backend) Member() *grid.Member { return b.m }

// ServeForwarded makes this member run the batches other members forward
// to it through exec (its own server's ExecBatch). Call it once the server
// exists.
func (b *Backend) ServeForwarded(exec grid.Executor) { b.m.Node.ServeForwarded(exec) }

// clientAddrs maps member identities to their client addresses, or with
// tls to their TLS client addresses.
func (b *Backend) clientAddrs(tls bool) map[string]string {
	out := map[string]string{}
	for _, mb := range b.m.Cluster.Members() {
		if tls {
			out[grid.Identity(mb)] = mb.Addrs.ClientTLS
		} else {
			out[grid.Identity(mb)] = mb.Addrs.Client
		}
	}
	return out
}

// ClusterTable implements server.Cluster.
func (b *Backend) ClusterTable(tls bool) (uint64, []string) {
	t := b.m.Node.Table()
	addrs := b.clientAddrs(tls)
	owners := make([]string, len(t.Partitions))
	for p, a := range t.Partitions {
		owners[p] = addrs[a.Primary()]
	}
	return t.Epoch, owners
}

// ClusterOwner implements server.Cluster.
func (b *Backend) ClusterOwner(key string) (int, string, string) {
	owner := b.m.Node.Owner(key)
	return b.m.Node.Partition(key), grid.NameOf(owner), b.clientAddrs(false)[owner]
}

// ClusterStatus implements server.Cluster.
func (b *Backend) ClusterStatus(ctx context.Context) server.ClusterStatus {
	n := b.m.Node
	t := n.Table()
	gs := b.m.Globals.Status(ctx)
	primaries, backups := t.Counts()
	rs := n.ReplicationStats()
	st := server.ClusterStatus{
		Self: b.m.Cluster.Name(), Epoch: t.Epoch, Partitions: n.Partitions(),
		Leader: gs.Leader, RaftState: gs.State, Voters: gs.Voters, NonVoters: gs.NonVoters,
		AppliedIndex: gs.AppliedIndex,
		Backups:      t.Backups, AsyncBackups: t.AsyncBackups,
		Promotions:  rs.Promotions,
		Resyncs:     rs.Resyncs,
		Migrations:  rs.Migrations,
		BackupBytes: rs.BackupBytes,
	}
	for _, mb := range b.m.Cluster.Members() {
		id := grid.Identity(mb)
		st.Members = append(st.Members, server.ClusterMember{
			Name: mb.Name, ID: mb.ID, Role: string(mb.Role), State: string(mb.State),
			Client: mb.Addrs.Client, ClientTLS: mb.Addrs.ClientTLS, Gossip: mb.Gossip, Raft: mb.Addrs.Raft, Transport: mb.Addrs.Transport,
			Primaries: primaries[id], Backups: backups[id], Version: mb.Version, Leaving: mb.Leaving,
			IsLeader: mb.Name == gs.Leader, IsVoter: slices.Contains(gs.Voters, mb.Name),
			IsThisNode: mb.Name == b.m.Cluster.Name(),
		})
	}
	return st
}

// ClusterSafe implements server.Cluster.
func (b *Backend) ClusterSafe(ctx context.Context) server.ClusterSafety {
	st := b.m.Node.Safe(ctx)
	return server.ClusterSafety{
		Safe: st.Safe, Reason: st.Reason, Epoch: st.Epoch, Backups: st.Backups, AsyncBackups: st.AsyncBackups,
		Short: st.Short, Migrating: st.Migrating, Behind: st.Behind, Unreached: st.Unreached,
	}
}

// Stats reports the partitions this member holds (INFO keyspace, metrics).
func (b *Backend) Stats() memory.Stats { return b.m.Node.Stats() }

// BeginBatch implements server.Batcher: the writes made with the returned
// context replicate together when commit runs.
func (b *Backend) BeginBatch(ctx context.Context) (context.Context, func() error) {
	uctx, u := b.m.Node.BeginUnit(ctx)
	return uctx, func() error { return u.Commit(ctx) }
}

// RemoteOwner implements server.Forwarder.
func (b *Backend) RemoteOwner(key []byte) string {
	if owner := b.m.Node.Owner(string(key)); owner != b.m.Node.Self() {
		return owner
	}
	return ""
}

// Forward implements server.Forwarder. A batch that certainly never left
// this member (the owner could not be dialled) is server.ErrNotSent, so
// that writes can be resent.
func (b *Backend) Forward(ctx context.Context, owner string, proto int, cmds [][][]byte) ([][]byte, error) {
	replies, err := b.m.Node.ForwardBatch(ctx, owner, proto, cmds)
	if errors.Is(err, transport.ErrConnect) {
		return nil, fmt.Errorf("%w: %w", server.ErrNotSent, err)
	}
	return replies, err
}

// InSyncBackups implements server.Replicas (WAIT): the synchronous
// backups of key's partition in the table in force. A write is
// acknowledged only once every one of them holds it, so they all hold the
// connection's last acknowledged write. A nil key asks for the smallest
// count over every partition.
func (b *Backend) InSyncBackups(key []byte) int {
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

// WatchWrites implements server.WriteWatcher: the member numbers every
// write to the keys it leads (WATCH), whoever made it.
func (b *Backend) WatchWrites(written func(key string), gate func(run func())) {
	b.m.Node.SetWatchHooks(written, gate)
}

// Generation implements server.WriteWatcher.
func (b *Backend) Generation(key string) uint64 { return b.m.Node.Generation(key) }
