package server

import "context"

// Cluster is an optional capability of a Backend that is one member of a
// grid: it backs the GRID.* inspection commands, INFO's cluster section and
// the HTTP /cluster endpoint. A standalone node's backend does not have it.
type Cluster interface {
	// ClusterTable returns the epoch of the partition table in force and,
	// for each partition, the client (RESP) address of its owner ("" when
	// unknown), or with tls its TLS client address ("" when the owner has
	// no TLS port). Smart clients route with it.
	ClusterTable(tls bool) (epoch uint64, owners []string)
	// ClusterOwner returns key's partition, its owner's name and client
	// address.
	ClusterOwner(key string) (partition int, owner, addr string)
	// ClusterStatus describes the grid as this member sees it.
	ClusterStatus(ctx context.Context) ClusterStatus
	// ClusterSafe says whether the grid is cluster-safe: every partition
	// has its full backup count, in sync, and no migration is in flight.
	ClusterSafe(ctx context.Context) ClusterSafety
}

// ClusterSafety is the answer of GRID.SAFE and GET /cluster/safe.
type ClusterSafety struct {
	Safe bool `json:"safe"`
	// Reason says why not, "" when safe.
	Reason string `json:"reason,omitempty"`
	// Epoch is the table's epoch; Backups and AsyncBackups the grid's
	// backup counts.
	Epoch        uint64 `json:"epoch"`
	Backups      int    `json:"backup_count"`
	AsyncBackups int    `json:"async_backup_count"`
	// Short counts partitions lacking a replica (too few members, or
	// re-replication under way), Migrating those with a learner being
	// filled, Behind the backup copies being resynced.
	Short     int      `json:"short_partitions"`
	Migrating int      `json:"migrating_partitions"`
	Behind    int      `json:"backups_behind"`
	Unreached []string `json:"unreached,omitempty"`
}

// ClusterStatus is the grid as one member sees it (GRID.MEMBERS, INFO
// cluster, /cluster).
type ClusterStatus struct {
	Self         string          `json:"self"`
	Epoch        uint64          `json:"epoch"`
	Partitions   int             `json:"partitions"`
	Leader       string          `json:"leader"`
	RaftState    string          `json:"raft_state"`
	Voters       []string        `json:"voters"`
	NonVoters    []string        `json:"non_voters"`
	AppliedIndex uint64          `json:"applied_index"`
	Members      []ClusterMember `json:"members"`
	// Replication, as this member counts it since it started.
	Backups      int    `json:"backup_count"`
	AsyncBackups int    `json:"async_backup_count"`
	Promotions   uint64 `json:"promotions"`     // partitions taken over here from a failed or leaving primary
	Resyncs      uint64 `json:"backup_resyncs"` // backup copies that fell behind and were resynced
	Migrations   uint64 `json:"migrations"`     // learners filled by this member
	BackupBytes  int64  `json:"backup_bytes"`   // bytes of the backup copies held here
}

// ClusterMember is one member in a ClusterStatus.
type ClusterMember struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	Role       string `json:"role"`
	State      string `json:"state"`
	Client     string `json:"client_addr,omitempty"`
	ClientTLS  string `json:"client_tls_addr,omitempty"`
	Gossip     string `json:"gossip_addr,omitempty"`
	Raft       string `json:"raft_addr,omitempty"`
	Transport  string `json:"transport_addr,omitempty"`
	Primaries  int    `json:"primaries"`
	Backups    int    `json:"backups"`
	Version    string `json:"version,omitempty"`
	Leaving    bool   `json:"leaving,omitempty"`
	IsLeader   bool   `json:"leader,omitempty"`
	IsVoter    bool   `json:"voter,omitempty"`
	IsThisNode bool   `json:"self,omitempty"`
}

// Forwarder is an optional capability of a cluster backend that keeps
// pipelining across the grid: the commands of a pipelined batch whose keys
// other members own are sent to each owner in one round trip (all owners
// at once), instead of one blocking call per command.
type Forwarder interface {
	// RemoteOwner returns the member that owns key's partition when it is
	// not this member, "" when this member owns it (or ownership is unknown:
	// the command then runs here and the backend routes it).
	RemoteOwner(key []byte) string
	// Forward runs cmds, in order, on member owner as one client would and
	// returns one reply per command, encoded for RESP version proto. On an
	// error no reply is known (the commands may or may not have run).
	Forward(ctx context.Context, owner string, proto int, cmds [][][]byte) ([][]byte, error)
}
