package peer

import (
	"context"
	"fmt"
	"sync"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/grid"
	"github.com/sessiongrid/sessiongrid/server"
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
	// NotifyKeyspaceEvents, in Redis's letters as gridnode's flag, makes
	// the peer publish the expiries it decides (as the primary of its
	// partitions) to every member's subscribers: with E and x, on
	// __keyevent@0__:expired. Without it those expiries reach no RESP
	// subscriber. Only the expired class applies (a peer runs no commands
	// for RESP clients).
	NotifyKeyspaceEvents string
}

// Peer is a running embedded peer.
type Peer struct {
	member  *grid.Member
	manager session.Manager
	unwatch func() // stops publishing expiries (NotifyKeyspaceEvents)
	once    sync.Once
	err     error
}

// peerStore is the peer's store: the member's router, reporting the whole
// grid's events (grid.Node.WatchGrid) to session.Listen.
type peerStore struct {
	*grid.Router
	n *grid.Node
}

// Watch implements session.Watcher: the whole grid's expired and deleted
// sessions, those this peer decides and those the other members broadcast
// (see grid.Node.WatchGrid; one Watch at a time).
func (s peerStore) Watch(fn func(session.Event)) (cancel func()) { return s.n.WatchGrid(fn) }

// Start starts a member inside this process, joins the grid and
// returns once it may serve. Partitions it owns are served in-process; the
// rest over the internal transport. Embedded peers and lite members never
// become Raft voters.
func Start(ctx context.Context, cfg Config) (*Peer, error) {
	cfg.Member.Cluster.Role = cluster.RoleEmbedded
	if cfg.Lite {
		cfg.Member.Cluster.Role = cluster.RoleLite
	}
	flags, err := server.ParseKeyspaceEvents(cfg.NotifyKeyspaceEvents)
	if err != nil {
		return nil, fmt.Errorf("peer: Config.NotifyKeyspaceEvents %q: %v", cfg.NotifyKeyspaceEvents, err)
	}
	m, err := grid.StartMember(ctx, cfg.Member)
	if err != nil {
		return nil, err
	}
	if err := m.WaitReady(ctx); err != nil {
		m.Close(context.Background())
		return nil, err
	}
	p := &Peer{member: m, unwatch: func() {}}
	if flags != 0 {
		p.unwatch = m.Node.Watch(func(e session.Event) {
			if e.Type == session.EventExpired {
				server.ExpiredMessages(flags, e.ID, m.Node.Broadcast)
			}
		})
	}
	p.manager = session.NewManager(peerStore{Router: m.Node.Router(p.Close), n: m.Node}, cfg.Manager)
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
	p.once.Do(func() {
		p.unwatch()
		p.err = p.member.Leave(ctx)
	})
	return p.err
}
