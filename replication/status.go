package replication

import (
	"context"
	"slices"

	"github.com/hashicorp/raft"
)

// Status describes the globals of one member, for inspection (INFO, HTTP).
type Status struct {
	// Server reports whether this member runs a Raft server.
	Server bool
	// State is the Raft state ("Leader", "Follower", "Candidate",
	// "Shutdown"), or "forwarder" on a member without Raft.
	State string
	// Leader is the leader's name and LeaderRaftAddr its Raft address, empty
	// when none is known.
	Leader         string
	LeaderRaftAddr string
	// Voters and NonVoters are the Raft configuration's members, by name.
	Voters    []string
	NonVoters []string
	// Term, LastIndex, CommitIndex and AppliedIndex are Raft's counters.
	Term, LastIndex, CommitIndex, AppliedIndex uint64
	// Keys and Bytes count the globals held locally.
	Keys  int
	Bytes int64
}

// Status returns the member's view of the globals' Raft group.
func (g *Globals) Status(ctx context.Context) Status {
	if !g.server {
		return Status{State: "forwarder"}
	}
	st := Status{
		Server:       true,
		State:        g.raft.State().String(),
		Term:         g.raft.CurrentTerm(),
		LastIndex:    g.raft.LastIndex(),
		CommitIndex:  g.raft.CommitIndex(),
		AppliedIndex: g.raft.AppliedIndex(),
	}
	addr, id := g.raft.LeaderWithID()
	st.Leader, st.LeaderRaftAddr = string(id), string(addr)
	st.Voters, st.NonVoters = g.servers(ctx)
	st.Keys, st.Bytes = g.fsm.stats()
	return st
}

// Leader returns the name of the current leader as this member knows it,
// or "" (on a member without Raft, always "").
func (g *Globals) Leader() string {
	if !g.server {
		return ""
	}
	_, id := g.raft.LeaderWithID()
	return string(id)
}

// IsLeader reports whether this member is the Raft leader.
func (g *Globals) IsLeader() bool {
	return g.server && g.raft.State() == raft.Leader
}

// Voters returns the names of the voters in this member's latest Raft
// configuration, sorted.
func (g *Globals) Voters(ctx context.Context) []string {
	v, _ := g.servers(ctx)
	return v
}

// NonVoters returns the names of the non-voters, sorted.
func (g *Globals) NonVoters(ctx context.Context) []string {
	_, nv := g.servers(ctx)
	return nv
}

func (g *Globals) servers(ctx context.Context) (voters, nonVoters []string) {
	if !g.server {
		return nil, nil
	}
	f := g.raft.GetConfiguration()
	if err := g.wait(ctx, f); err != nil {
		return nil, nil
	}
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			voters = append(voters, string(s.ID))
		} else {
			nonVoters = append(nonVoters, string(s.ID))
		}
	}
	slices.Sort(voters)
	slices.Sort(nonVoters)
	return voters, nonVoters
}

// AppliedIndex returns the last Raft index applied to this member's state
// machine (0 without Raft).
func (g *Globals) AppliedIndex() uint64 {
	if !g.server {
		return 0
	}
	return g.raft.AppliedIndex()
}

// Snapshot takes a Raft snapshot now and compacts the log (tests and
// operators; Raft also snapshots on its own per SnapshotThreshold).
func (g *Globals) Snapshot(ctx context.Context) error {
	if !g.server {
		return ErrNotServer
	}
	if err := g.wait(ctx, g.raft.Snapshot()); err != nil {
		return raftError("snapshot", err)
	}
	return nil
}
