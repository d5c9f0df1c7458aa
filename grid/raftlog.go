package grid

import (
	"context"
	"sync"

	"github.com/sessiongrid/sessiongrid/partition"
	"github.com/sessiongrid/sessiongrid/replication"
)

// RaftLog is the TableLog of a server member: the table is an entry of the
// globals' Raft log, so it has one history, survives the coordinator's death
// and cannot change on a side of a network cut without a Raft majority. The
// coordinator is the Raft leader.
type RaftLog struct {
	g *replication.Globals

	mu    sync.Mutex // guards cache
	cache partition.Table
}

// NewRaftLog returns the table log kept in g's Raft group.
func NewRaftLog(g *replication.Globals) *RaftLog { return &RaftLog{g: g} }

// Current implements TableLog.
func (l *RaftLog) Current() partition.Table {
	epoch, b := l.g.Table()
	l.mu.Lock()
	defer l.mu.Unlock()
	if epoch != l.cache.Epoch {
		t, err := DecodeTable(b)
		if err != nil || t.Epoch != epoch {
			return l.cache // never happens: Propose wrote what DecodeTable reads
		}
		l.cache = t
	}
	return l.cache
}

// Propose implements TableLog.
func (l *RaftLog) Propose(ctx context.Context, next partition.Table) error {
	if !l.g.IsLeader() {
		return ErrNotCoordinator
	}
	return l.g.ProposeTable(ctx, next.Epoch, encodeTable(next))
}

// Changed implements TableLog.
func (l *RaftLog) Changed() <-chan struct{} { return l.g.TableChanged() }

// Coordinator implements TableLog.
func (l *RaftLog) Coordinator() string { return l.g.Leader() }

// IsCoordinator implements TableLog.
func (l *RaftLog) IsCoordinator() bool { return l.g.IsLeader() }
