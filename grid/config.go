package grid

import (
	"cmp"
	"fmt"
	"log/slog"
	"time"

	"github.com/sessiongrid/sessiongrid/partition"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// Config configures a Node. It is copied by New and never changed.
type Config struct {
	// Partitions is the partition count; partition.DefaultCount when 0.
	// Every member must use the same count (cluster refuses others).
	Partitions int
	// Store configures the memory store of each owned partition. Its
	// SweepInterval is ignored: the node sweeps its partitions itself.
	Store memory.Config
	// SweepInterval is the period of a full sweep of expired sessions over
	// the owned partitions; 1 s when 0.
	SweepInterval time.Duration
	// PlanInterval is how often the coordinator re-plans the table (it also
	// plans at once on membership events); 500 ms when 0.
	PlanInterval time.Duration
	// MaxMigrations bounds the partitions moving at once in the grid; 8
	// when 0.
	MaxMigrations int
	// BatchBytes is the size of one migration batch; 256 KiB when 0.
	BatchBytes int
	// RouteTimeout bounds how long a request keeps retrying while
	// ownership moves (redirects, an owner unreachable) before it fails
	// with session.ErrUnavailable; 5 s when 0.
	RouteTimeout time.Duration
	// FreezeTimeout bounds one handoff attempt's freeze of a partition; 3 s
	// when 0.
	FreezeTimeout time.Duration
	// BackupCount is the number of synchronous backups of every partition
	// (0–6): a write is acknowledged only once the primary and every
	// synchronous backup hold it. AsyncBackupCount backups more receive
	// every write without being waited for (they may miss the last writes
	// before a crash). The coordinator that makes the grid's first table
	// writes both counts into it; the table's counts rule from then on, and
	// members configured otherwise follow the table (and log it).
	BackupCount      int
	AsyncBackupCount int
	// BackupTimeout bounds the wait for the backups' acknowledgement of a
	// write: a backup that does not answer is resynced, or dropped from the
	// table once it is declared dead, and the write waits for either. Past
	// it the write fails with session.ErrUnavailable, its outcome unknown.
	// Keep it above failure detection plus the lease. 5 s when 0.
	BackupTimeout time.Duration
	// LeaseDuration is how long a primary may serve after the coordinator
	// last renewed its lease (measured on the primary's monotonic clock from
	// when it asked). The coordinator hands a dead member's partitions to
	// their backups only once that lease has run out by its own clock, plus
	// a margin for clock-rate drift. Keep it below failure detection so that
	// leases never slow a failover. 2 s when 0.
	LeaseDuration time.Duration
	// AntiEntropyInterval is the period over which a primary sends a
	// digest of each partition it leads down the partition's replication
	// stream; a backup whose copy differs is resynced. 1 minute when 0,
	// never when negative.
	AntiEntropyInterval time.Duration
	// Logger receives the node's logs; slog.Default() when nil.
	Logger *slog.Logger
}

// MaxBackups bounds BackupCount + AsyncBackupCount.
const MaxBackups = 6

// DefaultConfig returns the defaults of an owning member.
func DefaultConfig() Config {
	return Config{
		Partitions:          partition.DefaultCount,
		Store:               memory.DefaultConfig(),
		SweepInterval:       time.Second,
		PlanInterval:        500 * time.Millisecond,
		MaxMigrations:       8,
		BatchBytes:          256 << 10,
		RouteTimeout:        5 * time.Second,
		FreezeTimeout:       3 * time.Second,
		BackupCount:         1,
		BackupTimeout:       5 * time.Second,
		LeaseDuration:       2 * time.Second,
		AntiEntropyInterval: time.Minute,
	}
}

// Validate reports an invalid configuration.
func (c Config) Validate() error {
	switch {
	case c.Partitions < 0 || c.Partitions > 1<<16:
		return fmt.Errorf("grid: Partitions must be in 1..65536, got %d", c.Partitions)
	case c.MaxMigrations < 0, c.BatchBytes < 0:
		return fmt.Errorf("grid: MaxMigrations and BatchBytes must not be negative")
	case c.RouteTimeout < 0, c.FreezeTimeout < 0, c.PlanInterval < 0, c.SweepInterval < 0,
		c.BackupTimeout < 0, c.LeaseDuration < 0:
		return fmt.Errorf("grid: durations must not be negative")
	case c.BackupCount < 0 || c.AsyncBackupCount < 0 || c.BackupCount+c.AsyncBackupCount > MaxBackups:
		return fmt.Errorf("grid: BackupCount (%d) and AsyncBackupCount (%d) must be 0..%d together", c.BackupCount, c.AsyncBackupCount, MaxBackups)
	}
	return c.Store.Validate()
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.Partitions = cmp.Or(c.Partitions, d.Partitions)
	c.SweepInterval = cmp.Or(c.SweepInterval, d.SweepInterval)
	c.PlanInterval = cmp.Or(c.PlanInterval, d.PlanInterval)
	c.MaxMigrations = cmp.Or(c.MaxMigrations, d.MaxMigrations)
	c.BatchBytes = cmp.Or(c.BatchBytes, d.BatchBytes)
	c.RouteTimeout = cmp.Or(c.RouteTimeout, d.RouteTimeout)
	c.FreezeTimeout = cmp.Or(c.FreezeTimeout, d.FreezeTimeout)
	c.BackupTimeout = cmp.Or(c.BackupTimeout, d.BackupTimeout)
	c.LeaseDuration = cmp.Or(c.LeaseDuration, d.LeaseDuration)
	c.AntiEntropyInterval = cmp.Or(c.AntiEntropyInterval, d.AntiEntropyInterval)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	c.Store.SweepInterval = -1
	c.Store.Shards = cmp.Or(c.Store.Shards, 4) // per partition: 271 × 4 maps
	if c.Store.Now == nil {
		c.Store.Now = time.Now
	}
	return c
}
