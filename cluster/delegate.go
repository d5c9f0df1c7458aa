package cluster

import (
	"fmt"
	"time"

	"github.com/hashicorp/memberlist"
)

// delegate implements memberlist's Delegate, EventDelegate, AliveDelegate and
// MergeDelegate for a Node.
//
// Concurrency: memberlist calls these from its own goroutines, sometimes with
// its locks held; none of them blocks.
type delegate struct {
	n *Node
}

// NodeMeta implements memberlist.Delegate.
func (d delegate) NodeMeta(limit int) []byte {
	d.n.metaMu.Lock()
	b := d.n.metaBytes
	d.n.metaMu.Unlock()
	if len(b) > limit {
		return nil // Validate guarantees this does not happen
	}
	return b
}

// NotifyMsg implements memberlist.Delegate (no user messages).
func (d delegate) NotifyMsg([]byte) {}

// GetBroadcasts implements memberlist.Delegate (no user broadcasts).
func (d delegate) GetBroadcasts(int, int) [][]byte { return nil }

// LocalState implements memberlist.Delegate (no user state).
func (d delegate) LocalState(bool) []byte { return nil }

// MergeRemoteState implements memberlist.Delegate (no user state).
func (d delegate) MergeRemoteState([]byte, bool) {}

// NotifyAlive implements memberlist.AliveDelegate: a member with
// incompatible metadata is never considered a peer.
func (d delegate) NotifyAlive(peer *memberlist.Node) error {
	return d.n.check(peer)
}

// NotifyMerge implements memberlist.MergeDelegate: a push/pull (join) with a
// peer that knows an incompatible member is cancelled, on both sides.
func (d delegate) NotifyMerge(peers []*memberlist.Node) error {
	for _, p := range peers {
		if err := d.n.check(p); err != nil {
			return err
		}
	}
	return nil
}

// NotifyJoin implements memberlist.EventDelegate.
func (d delegate) NotifyJoin(n *memberlist.Node) { d.n.observe(EventJoin, n) }

// NotifyUpdate implements memberlist.EventDelegate.
func (d delegate) NotifyUpdate(n *memberlist.Node) { d.n.observe(EventUpdate, n) }

// NotifyLeave implements memberlist.EventDelegate: memberlist reports both
// graceful leaves and failures here (and does not set Node.State); the
// Leaving flag a member sets before leaving tells them apart.
func (d delegate) NotifyLeave(n *memberlist.Node) {
	if meta, err := decodeMeta(n.Meta); err == nil && meta.Leaving {
		d.n.observe(EventLeave, n)
		return
	}
	d.n.observe(EventFail, n)
}

// check validates a peer's metadata, logging a refusal once a minute per
// peer.
func (n *Node) check(p *memberlist.Node) error {
	if p.Name == n.cfg.Name {
		return nil
	}
	meta, err := decodeMeta(p.Meta)
	if err == nil {
		err = compatible(n.meta, meta)
	}
	if err == nil {
		return nil
	}
	err = fmt.Errorf("member %s at %s refused: %w", p.Name, p.Address(), err)
	n.refusedMu.Lock()
	last, seen := n.refused[p.Name]
	if !seen || time.Since(last) > time.Minute {
		n.refused[p.Name] = time.Now()
		n.refusedMu.Unlock()
		n.log.Error("cluster: refusing an incompatible member", "member", p.Name, "addr", p.Address(), "err", err)
	} else {
		n.refusedMu.Unlock()
	}
	return err
}

// observe records a membership change and publishes it.
func (n *Node) observe(t EventType, p *memberlist.Node) {
	m := Member{Name: p.Name, Gossip: p.Address(), Since: time.Now()}
	if meta, err := decodeMeta(p.Meta); err == nil {
		m.Meta = meta
	}
	switch t {
	case EventJoin, EventUpdate:
		m.State = StateAlive
	case EventLeave:
		m.State = StateLeft
	case EventFail:
		m.State = StateDead
	}
	n.mu.Lock()
	if old, ok := n.members[p.Name]; ok && t == EventUpdate && old.State == m.State {
		m.Since = old.Since
	}
	n.members[p.Name] = m
	n.mu.Unlock()
	if p.Name != n.cfg.Name {
		n.log.Info("cluster: member "+t.String(), "member", m.Name, "id", m.ID, "role", m.Role, "addr", m.Gossip)
	}
	n.events.publish(Event{Type: t, Member: m})
}
