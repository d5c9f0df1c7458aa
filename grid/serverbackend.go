package grid

import (
	"context"
	"slices"

	"github.com/sessiongrid/sessiongrid/server"
	"github.com/sessiongrid/sessiongrid/session/memory"
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
	_ server.Backend = (*ServerBackend)(nil)
	_ server.Cluster = (*ServerBackend)(nil)
)

// Member returns the grid member.
func (b *ServerBackend) Member() *Member { return b.m }

// clientAddrs maps member names to their client addresses.
func (b *ServerBackend) clientAddrs() map[string]string {
	out := map[string]string{}
	for _, mb := range b.m.Cluster.Members() {
		out[mb.Name] = mb.Addrs.Client
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
	return b.m.Node.Partition(key), owner, b.clientAddrs()[owner]
}

// ClusterStatus implements server.Cluster.
func (b *ServerBackend) ClusterStatus(ctx context.Context) server.ClusterStatus {
	t := b.m.Node.Table()
	gs := b.m.Globals.Status(ctx)
	primaries, _ := t.Counts()
	st := server.ClusterStatus{
		Self: b.m.Cluster.Name(), Epoch: t.Epoch, Partitions: b.m.Node.cfg.Partitions,
		Leader: gs.Leader, RaftState: gs.State, Voters: gs.Voters, NonVoters: gs.NonVoters,
		AppliedIndex: gs.AppliedIndex,
	}
	for _, mb := range b.m.Cluster.Members() {
		st.Members = append(st.Members, server.ClusterMember{
			Name: mb.Name, ID: mb.ID, Role: string(mb.Role), State: string(mb.State),
			Client: mb.Addrs.Client, Gossip: mb.Gossip, Raft: mb.Addrs.Raft, Transport: mb.Addrs.Transport,
			Primaries: primaries[mb.Name], Version: mb.Version, Leaving: mb.Leaving,
			IsLeader: mb.Name == gs.Leader, IsVoter: slices.Contains(gs.Voters, mb.Name),
			IsThisNode: mb.Name == b.m.Cluster.Name(),
		})
	}
	return st
}

// Stats reports the partitions this member holds (INFO keyspace, metrics).
func (b *ServerBackend) Stats() memory.Stats { return b.m.Node.Stats() }
