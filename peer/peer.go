package peer

import (
	"context"
	"sync"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/grid"
	"github.com/sessiongrid/sessiongrid/session"
)

// Config configures an embedded peer: a grid member started inside the
// bot process. Member.Cluster.Name must be unique in the grid (a pod name,
// say); Member.Seeds lists the gridnodes (or other peers) to join.
type Config struct {
	Member grid.MemberConfig
	// Lite joins as a lite member: it owns no partition, so a short-lived
	// bot instance never moves data when it comes and goes; every call is
	// forwarded to the owner.
	Lite bool
	// Manager configures the session.Manager (codec, value limit).
	Manager session.Config
}

// Peer is a running embedded peer.
type Peer struct {
	member  *grid.Member
	manager session.Manager
	once    sync.Once
	err     error
}

// Start starts a member inside this process, joins the grid and
// returns once it may serve. Partitions it owns are served in-process; the
// rest over the internal transport. Embedded peers and lite members never
// become Raft voters.
func Start(ctx context.Context, cfg Config) (*Peer, error) {
	cfg.Member.Cluster.Role = cluster.RoleEmbedded
	if cfg.Lite {
		cfg.Member.Cluster.Role = cluster.RoleLite
	}
	m, err := grid.StartMember(ctx, cfg.Member)
	if err != nil {
		return nil, err
	}
	if err := m.WaitReady(ctx); err != nil {
		m.Close(context.Background())
		return nil, err
	}
	p := &Peer{member: m}
	p.manager = session.NewManager(m.Node.Router(p.Close), cfg.Manager)
	return p, nil
}

// Manager returns the session manager of the peer. Closing it closes the
// peer (gracefully).
func (p *Peer) Manager() session.Manager { return p.manager }

// Member returns the grid member (inspection, tests).
func (p *Peer) Member() *grid.Member { return p.member }

// Close hands the peer's partitions to the other members and leaves the
// grid; no session is lost. Idempotent.
func (p *Peer) Close(ctx context.Context) error {
	p.once.Do(func() { p.err = p.member.Leave(ctx) })
	return p.err
}
