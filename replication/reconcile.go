package replication

import (
	"context"
	"slices"
	"time"

	"github.com/hashicorp/raft"

	"github.com/sessiongrid/sessiongrid/cluster"
)

// reconcile runs on the leader: it brings the Raft configuration in line
// with membership, one change at a time (each waits for its commit).
//
//   - A server that is dead, has left, or is gone from membership for longer
//     than DeadServerTimeout is removed (never the leader itself).
//   - An alive server not in the configuration is added as a voter while
//     there are fewer than MaxVoters, as a non-voter otherwise.
//   - A server whose Raft address changed is re-added with its new address.
//   - Non-voters are promoted while there are fewer than MaxVoters voters.
//
// Embedded and lite members are never added.
func (g *Globals) reconcile() {
	ctx, cancel := context.WithTimeout(g.ctx, g.cfg.ApplyTimeout)
	defer cancel()
	cf := g.raft.GetConfiguration()
	if err := g.wait(ctx, cf); err != nil {
		return
	}
	servers := cf.Configuration().Servers
	members := make(map[string]cluster.Member)
	for _, m := range g.node.Members() {
		members[m.Name] = m
	}
	now := time.Now()
	voters := 0
	inConfig := make(map[string]raft.Server, len(servers))
	for _, s := range servers {
		inConfig[string(s.ID)] = s
		if s.Suffrage == raft.Voter {
			voters++
		}
	}

	// Removals.
	for _, s := range servers {
		if string(s.ID) == g.self {
			continue
		}
		m, ok := members[string(s.ID)]
		alive := ok && m.Role == cluster.RoleServer && (m.State == cluster.StateAlive || m.State == cluster.StateSuspect)
		if alive {
			delete(g.goneSince, s.ID)
			continue
		}
		since, seen := g.goneSince[s.ID]
		if !seen {
			since = now
			if ok && (m.State == cluster.StateDead || m.State == cluster.StateLeft) {
				since = m.Since
			}
			g.goneSince[s.ID] = since
		}
		if now.Sub(since) < g.cfg.DeadServerTimeout {
			continue
		}
		state := "gone from membership"
		if ok {
			state = string(m.State)
		}
		g.log.Warn("globals: removing a Raft server that is gone", "server", s.ID, "state", state, "since", since.Format(time.RFC3339Nano))
		if err := g.wait(ctx, g.raft.RemoveServer(s.ID, 0, g.cfg.ApplyTimeout)); err != nil {
			g.log.Warn("globals: remove server failed", "server", s.ID, "err", err)
			return
		}
		delete(g.goneSince, s.ID)
		delete(inConfig, string(s.ID))
		if s.Suffrage == raft.Voter {
			voters--
		}
	}

	// Additions and address changes, in name order so every leader makes
	// the same choice.
	var alive []cluster.Member
	for _, m := range members {
		if m.Role == cluster.RoleServer && m.State == cluster.StateAlive && m.Addrs.Raft != "" {
			alive = append(alive, m)
		}
	}
	slices.SortFunc(alive, func(a, b cluster.Member) int { return cmpString(a.Name, b.Name) })
	for _, m := range alive {
		s, in := inConfig[m.Name]
		addr := raft.ServerAddress(m.Addrs.Raft)
		if in && s.Address == addr {
			continue
		}
		// A server of another name still listed at this address is stale:
		// two live servers never share an address, and a restarted container
		// may get the address another, dead one had. Raft refuses a
		// duplicate address, so the stale entry goes first.
		for id, o := range inConfig {
			if o.Address != addr || id == m.Name || id == g.self {
				continue
			}
			g.log.Warn("globals: removing a Raft server whose address another member now has", "server", id, "addr", addr, "member", m.Name)
			if err := g.wait(ctx, g.raft.RemoveServer(o.ID, 0, g.cfg.ApplyTimeout)); err != nil {
				g.log.Warn("globals: remove server failed", "server", id, "err", err)
				return
			}
			delete(inConfig, id)
			delete(g.goneSince, o.ID)
			if o.Suffrage == raft.Voter {
				voters--
			}
		}
		voter := (in && s.Suffrage == raft.Voter) || (!in && voters < g.cfg.MaxVoters)
		var f raft.IndexFuture
		if voter {
			f = g.raft.AddVoter(raft.ServerID(m.Name), addr, 0, g.cfg.ApplyTimeout)
		} else {
			f = g.raft.AddNonvoter(raft.ServerID(m.Name), addr, 0, g.cfg.ApplyTimeout)
		}
		g.log.Info("globals: adding a server to Raft", "server", m.Name, "addr", addr, "voter", voter, "address_change", in)
		if err := g.wait(ctx, f); err != nil {
			g.log.Warn("globals: add server failed", "server", m.Name, "err", err)
			return
		}
		if voter && !in {
			voters++
		}
		inConfig[m.Name] = raft.Server{ID: raft.ServerID(m.Name), Address: addr, Suffrage: map[bool]raft.ServerSuffrage{true: raft.Voter, false: raft.Nonvoter}[voter]}
	}

	// Promotions.
	for _, m := range alive {
		if voters >= g.cfg.MaxVoters {
			break
		}
		s, in := inConfig[m.Name]
		if !in || s.Suffrage == raft.Voter {
			continue
		}
		g.log.Info("globals: promoting a non-voter", "server", m.Name)
		if err := g.wait(ctx, g.raft.AddVoter(s.ID, s.Address, 0, g.cfg.ApplyTimeout)); err != nil {
			g.log.Warn("globals: promotion failed", "server", m.Name, "err", err)
			return
		}
		voters++
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
