package cluster

import (
	"encoding/json"
	"fmt"
	"time"
)

// ProtocolVersion is the version of the metadata and of the cluster
// protocols; members of another version are refused.
const ProtocolVersion = 1

// Role is what a member does in the grid.
type Role string

// Roles.
const (
	// RoleServer is a gridnode: it owns partitions and may be a Raft voter.
	RoleServer Role = "server"
	// RoleEmbedded is a bot process that joined as a full peer (owns
	// partitions) but is never a Raft voter.
	RoleEmbedded Role = "embedded"
	// RoleLite is a member that owns nothing and is never a Raft voter.
	RoleLite Role = "lite"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleServer || r == RoleEmbedded || r == RoleLite
}

// State is a member's liveness as seen by this node.
type State string

// Member states.
const (
	StateAlive   State = "alive"
	StateSuspect State = "suspect" // missed probes; declared dead unless it refutes
	StateDead    State = "dead"    // failed: stopped answering
	StateLeft    State = "left"    // left gracefully
)

// Addresses are the listeners a member advertises, "host:port" each, empty
// when the member has none.
type Addresses struct {
	// Raft is the Raft TCP transport.
	Raft string `json:"raft,omitempty"`
	// Transport is the internal node-to-node transport.
	Transport string `json:"tr,omitempty"`
	// Client is the client (RESP) listener.
	Client string `json:"cl,omitempty"`
	// ClientTLS is the client (RESP) listener that speaks TLS, when the
	// member has one. Members of earlier builds ignore it.
	ClientTLS string `json:"ctls,omitempty"`
	// HTTP is the health and metrics listener.
	HTTP string `json:"http,omitempty"`
}

// Meta is what a member advertises in its gossip metadata (at most 512
// bytes encoded).
type Meta struct {
	// ID is random per start: a restarted member has a new ID under the
	// same Name.
	ID string `json:"id"`
	// Role of the member.
	Role Role `json:"role"`
	// Version is the software version (informational).
	Version string `json:"ver,omitempty"`
	// Protocol is ProtocolVersion of the member.
	Protocol int `json:"proto"`
	// Partitions is the partition count; every member must agree.
	Partitions int `json:"parts"`
	// Addrs are the member's listeners.
	Addrs Addresses `json:"addrs"`
	// Leaving is set by a member that is leaving gracefully, just before its
	// leave message: memberlist reports leaves and failures alike, and this
	// flag tells them apart.
	Leaving bool `json:"leaving,omitempty"`
}

// Member is one member of the grid as seen by this node.
type Member struct {
	// Name is the member's stable name (its memberlist name and Raft server
	// id); unique in the grid.
	Name string
	Meta
	// Gossip is the member's gossip address.
	Gossip string
	// State is the member's liveness.
	State State
	// Since is when this node saw State begin.
	Since time.Time
}

// encodeMeta encodes m for gossip.
func encodeMeta(m Meta) ([]byte, error) {
	return json.Marshal(m)
}

// decodeMeta decodes gossip metadata.
func decodeMeta(b []byte) (Meta, error) {
	var m Meta
	if len(b) == 0 {
		return m, fmt.Errorf("%w: no metadata (not a sessiongrid node?)", ErrIncompatible)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: unreadable metadata (not a sessiongrid node?): %v", ErrIncompatible, err)
	}
	return m, nil
}

// compatible checks a peer's metadata against ours.
func compatible(local, peer Meta) error {
	switch {
	case peer.Protocol != local.Protocol:
		return fmt.Errorf("%w: protocol version %d, ours is %d", ErrIncompatible, peer.Protocol, local.Protocol)
	case peer.Partitions != local.Partitions:
		return fmt.Errorf("%w: partition count %d, ours is %d (every member must use the same count)", ErrIncompatible, peer.Partitions, local.Partitions)
	case !peer.Role.Valid():
		return fmt.Errorf("%w: unknown role %q", ErrIncompatible, peer.Role)
	}
	return nil
}
