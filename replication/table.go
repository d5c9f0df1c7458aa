package replication

import (
	"context"
	"fmt"

	"github.com/sessiongrid/sessiongrid/session"
)

// The grid's partition table is kept in the globals' Raft log: one history,
// decided by the leader (the grid's coordinator), unchangeable on a side of
// a network cut without a majority. This package keeps it as opaque bytes
// with an epoch; the grid package encodes it.

// Table returns the epoch and encoding of the partition table in force on
// this member (0 and nil before the first table, and on members without a
// Raft server). The slice must not be modified.
func (g *Globals) Table() (uint64, []byte) {
	if !g.server {
		return 0, nil
	}
	return g.fsm.currentTable()
}

// TableChanged returns a channel that receives a value (coalesced) each
// time a new table is applied on this member. It never fires on members
// without a Raft server.
func (g *Globals) TableChanged() <-chan struct{} {
	if !g.server {
		return nil
	}
	return g.fsm.tableCh
}

// ProposeTable commits table as the partition table of epoch, if the table
// in force has epoch-1 (compare and set), through this member's Raft log.
// Only the leader proposes: on any other member it fails with
// ErrNoLeader wrapped in session.ErrUnavailable. A stale proposal fails
// with partition.ErrStaleTable; a table of another partition count than the grid's
// (the cluster node's) with ErrTablePartitions, on every member.
func (g *Globals) ProposeTable(ctx context.Context, epoch uint64, table []byte) error {
	if g.closed.Load() {
		return fmt.Errorf("globals: %w", session.ErrClosed)
	}
	if !g.IsLeader() {
		return fmt.Errorf("%w: propose table: %w (not the leader)", session.ErrUnavailable, ErrNoLeader)
	}
	ctx, cancel := withTimeout(ctx, g.cfg.ApplyTimeout)
	defer cancel()
	_, err := g.applyLocal(ctx, encodeTableCommand(epoch, g.partitions, table))
	return err
}
