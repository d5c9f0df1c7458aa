package replication

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// GlobalsConfig configures the globals of one member. It is copied by
// NewGlobals and never changed afterwards.
type GlobalsConfig struct {
	// DataDir holds the Raft log and stable store (raft.db) and snapshots
	// (snapshots/). Empty: everything in memory, lost on restart.
	DataDir string
	// BootstrapExpect is the number of servers to wait for before
	// bootstrapping the Raft group (see the package doc). 0 never
	// bootstraps: the node waits to be added to an existing group.
	BootstrapExpect int
	// MaxVoters bounds the voters (odd, 1..7; 3 or 5 in practice); further
	// servers are non-voters.
	MaxVoters int

	// RaftBind is the Raft TCP listener address; ignored when RaftListener
	// is set. RaftAdvertise is the address peers dial (default: the
	// listener's); it must equal the cluster node's Addrs.Raft.
	RaftBind      string
	RaftListener  net.Listener
	RaftAdvertise string

	// MaxValueSize bounds one global's value; MaxKeySize its key.
	MaxValueSize int
	MaxKeySize   int

	// ApplyTimeout bounds one write or forwarded request; LeaderWait is how
	// long an operation waits for a leader to be known before failing with
	// ErrNoLeader.
	ApplyTimeout time.Duration
	LeaderWait   time.Duration
	// DeadServerTimeout is how long a Raft server may be dead or gone from
	// membership before the leader removes it from the configuration.
	DeadServerTimeout time.Duration
	// ReconcileInterval is the period of the leader's reconciliation and of
	// bootstrap attempts (membership events also trigger them).
	ReconcileInterval time.Duration

	// Raft timing (hashicorp/raft's names).
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	// Log compaction: a snapshot is taken when SnapshotThreshold entries
	// accumulated, checked every SnapshotInterval; TrailingLogs entries are
	// kept after it; SnapshotRetain snapshots are kept on disk.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	TrailingLogs      uint64
	SnapshotRetain    int

	// Logger receives the globals' and Raft's logs.
	Logger *slog.Logger
	// Blocked is a test hook that simulates a network cut on the Raft
	// transport: while it returns true for a Raft address, dials to it fail
	// and established connections to it break. Nil in production.
	Blocked func(addr string) bool
}

// DefaultGlobalsConfig returns the configuration for a LAN: Raft on port
// 7948, hashicorp/raft's default timing (1 s heartbeat and election
// timeouts), 3 voters, 1 MiB values, dead servers removed after 30 s.
func DefaultGlobalsConfig() GlobalsConfig {
	return GlobalsConfig{
		BootstrapExpect:    1,
		MaxVoters:          3,
		RaftBind:           "0.0.0.0:7948",
		MaxValueSize:       1 << 20,
		MaxKeySize:         session.MaxKeyLen,
		ApplyTimeout:       5 * time.Second,
		LeaderWait:         2 * time.Second,
		DeadServerTimeout:  30 * time.Second,
		ReconcileInterval:  time.Second,
		HeartbeatTimeout:   time.Second,
		ElectionTimeout:    time.Second,
		LeaderLeaseTimeout: 500 * time.Millisecond,
		CommitTimeout:      50 * time.Millisecond,
		SnapshotThreshold:  8192,
		SnapshotInterval:   30 * time.Second,
		TrailingLogs:       10240,
		SnapshotRetain:     2,
	}
}

// DefaultLocalGlobalsConfig returns a configuration for tests on loopback:
// Raft on 127.0.0.1 with a free port, 400 ms election timeouts, dead servers
// removed after 2 s, and frequent snapshots.
func DefaultLocalGlobalsConfig() GlobalsConfig {
	c := DefaultGlobalsConfig()
	c.RaftBind = "127.0.0.1:0"
	c.ApplyTimeout = 2 * time.Second
	c.LeaderWait = time.Second
	c.DeadServerTimeout = 2 * time.Second
	c.ReconcileInterval = 100 * time.Millisecond
	c.HeartbeatTimeout = 400 * time.Millisecond
	c.ElectionTimeout = 400 * time.Millisecond
	c.LeaderLeaseTimeout = 200 * time.Millisecond
	c.CommitTimeout = 5 * time.Millisecond
	c.SnapshotThreshold = 64
	c.SnapshotInterval = 200 * time.Millisecond
	c.TrailingLogs = 32
	return c
}

// Validate reports every invalid field.
func (c GlobalsConfig) Validate() error {
	var errs []error
	if c.BootstrapExpect < 0 {
		errs = append(errs, errors.New("BootstrapExpect must not be negative"))
	}
	if c.MaxVoters < 1 || c.MaxVoters > 7 || c.MaxVoters%2 == 0 {
		errs = append(errs, fmt.Errorf("MaxVoters must be odd, 1..7 (3 or 5 in practice), got %d", c.MaxVoters))
	}
	if c.BootstrapExpect > c.MaxVoters {
		errs = append(errs, fmt.Errorf("BootstrapExpect %d exceeds MaxVoters %d", c.BootstrapExpect, c.MaxVoters))
	}
	if c.RaftListener == nil && c.RaftBind == "" {
		errs = append(errs, errors.New("RaftBind or RaftListener is required"))
	}
	if c.MaxValueSize <= 0 || c.MaxKeySize <= 0 {
		errs = append(errs, errors.New("MaxValueSize and MaxKeySize must be positive"))
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{
		{"ApplyTimeout", c.ApplyTimeout}, {"LeaderWait", c.LeaderWait},
		{"DeadServerTimeout", c.DeadServerTimeout}, {"ReconcileInterval", c.ReconcileInterval},
		{"HeartbeatTimeout", c.HeartbeatTimeout}, {"ElectionTimeout", c.ElectionTimeout},
		{"LeaderLeaseTimeout", c.LeaderLeaseTimeout}, {"CommitTimeout", c.CommitTimeout},
		{"SnapshotInterval", c.SnapshotInterval},
	} {
		if d.d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive", d.name))
		}
	}
	if c.LeaderLeaseTimeout > c.HeartbeatTimeout {
		errs = append(errs, errors.New("LeaderLeaseTimeout must not exceed HeartbeatTimeout"))
	}
	if c.SnapshotRetain < 1 {
		errs = append(errs, errors.New("SnapshotRetain must be at least 1"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("replication: invalid globals config: %w", err)
	}
	return nil
}
