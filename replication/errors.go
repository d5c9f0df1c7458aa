package replication

import "errors"

// Errors of the globals. They are always wrapped together with
// session.ErrUnavailable, which is what callers usually test.
var (
	// ErrNoLeader reports that no Raft leader is known: the group has no
	// quorum, is electing, or was never bootstrapped.
	ErrNoLeader = errors.New("replication: no Raft leader (quorum lost, election in progress, or the group is not bootstrapped yet)")
	// ErrNotServer reports an operation that needs a local Raft server on a
	// member that has none (an embedded or lite member).
	ErrNotServer = errors.New("replication: this member is not a Raft server")
	// ErrTablePartitions reports a partition-table proposal made for another
	// partition count than the grid's: it is refused, never taken into force.
	ErrTablePartitions = errors.New("replication: partition table has another partition count than this grid")
)
