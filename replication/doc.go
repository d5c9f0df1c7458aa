// Package replication holds what sessiongrid replicates between members.
// This file set provides the globals: a map of small values every member
// shares (feature flags, campaign settings, rate limits), kept by a Raft
// group (hashicorp/raft, raft-boltdb/v2 for the log and stable store, file
// snapshots) that forms itself from cluster membership.
//
// # Forming the Raft group
//
// Only members of role server take part in Raft. With BootstrapExpect N, a
// server waits until it sees N alive servers; the first N by name are the
// initial voters, and only the first of them bootstraps, after asking each of
// the others over the internal transport that it has no Raft state, sees the
// same N servers and has promised no other bootstrapper (see bootstrap.go).
// A group is therefore bootstrapped once, by one node, with one
// configuration; a server that finds existing Raft state anywhere waits to
// be added. As in Consul, every server should be started with the same
// BootstrapExpect, and servers beyond the first N join the existing group.
// BootstrapExpect 1 makes a node alone a one-voter group.
//
// The leader then reconciles the Raft configuration with membership (see
// reconcile.go): alive servers are added as voters up to MaxVoters, as
// non-voters beyond; a server dead or gone for longer than DeadServerTimeout
// is removed and a non-voter promoted in its place. Embedded and lite
// members are never in the Raft group: they forward every globals operation
// to a server.
//
// # Reads and writes
//
// Writes from any member are forwarded to the leader over the internal
// transport and applied through the Raft log. Without a quorum they fail
// within about LeaderWait or LeaderLeaseTimeout with an error wrapping
// session.ErrUnavailable (a write that timed out may still be applied).
// Reads are linearizable by default: the leader confirms its leadership with
// a quorum (raft.VerifyLeader) after a barrier in its term, then reads its
// state machine; other members forward the read to the leader. The Stale
// option reads the local copy instead.
package replication
