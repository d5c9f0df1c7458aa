package server

import "context"

// Cluster is an optional capability of a Backend that is one member of a
// grid: it backs the GRID.* inspection commands, INFO's cluster section and
// the HTTP /cluster endpoint. A standalone node's backend does not have it.
type Cluster interface {
	// ClusterTable returns the epoch of the partition table in force and,
	// for each partition, the client (RESP) address of its owner ("" when
	// unknown). Smart clients route with it.
	ClusterTable() (epoch uint64, owners []string)
	// ClusterOwner returns key's partition, its owner's name and client
	// address.
	ClusterOwner(key string) (partition int, owner, addr string)
	// ClusterStatus describes the grid as this member sees it.
	ClusterStatus(ctx context.Context) ClusterStatus
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
}

// ClusterMember is one member in a ClusterStatus.
type ClusterMember struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	Role       string `json:"role"`
	State      string `json:"state"`
	Client     string `json:"client_addr,omitempty"`
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
