// Package grid makes several members one session grid: every member reads
// and writes every session, each session living on the one member that owns
// its partition in the table in force.
//
// A [Router] is a session.Store (with session.Strings and session.Keyspace)
// that any member — a gridnode, an embedded bot peer, a lite member — uses:
// operations on partitions this member owns run in-process on the
// partition's own memory store; the rest go to the owner over the internal
// transport, carrying the sender's table epoch. An owner that no longer
// owns the partition, or that sees an older epoch than the request's,
// answers with a redirect; the sender waits for its table to catch up and
// retries, so a request is never served by the wrong owner.
//
// The table changes only through a [TableLog] (the Raft log in production):
// the coordinator (the Raft leader) plans with partition.Plan and proposes;
// every member applies tables in epoch order. Partitions move by
// make-before-break migration: the primary streams the partition to the
// new member, then the dirty keys again until few are left, then freezes
// the partition for the last round and the ownership switch.
//
// One copy per session: until primary–backup replication lands, a member
// that crashes loses the sessions of the partitions it owned (joins and
// graceful leaves lose nothing).
package grid
