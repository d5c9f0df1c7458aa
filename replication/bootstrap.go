package replication

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/sessiongrid/sessiongrid/cluster"
)

// servers returns the alive servers with Raft and transport addresses,
// sorted by name.
func (g *Globals) aliveServers() []cluster.Member {
	var out []cluster.Member
	for _, m := range g.node.Members() { // sorted by name
		if m.Role == cluster.RoleServer && m.State == cluster.StateAlive && m.Addrs.Raft != "" && m.Addrs.Transport != "" {
			out = append(out, m)
		}
	}
	return out
}

// candidates returns the first BootstrapExpect alive servers by name: the
// initial voters if the group were bootstrapped now.
func (g *Globals) candidates() []cluster.Member {
	out := g.aliveServers()
	return out[:min(len(out), g.cfg.BootstrapExpect)]
}

// promise records that this server will take part only in who's bootstrap
// for a while; it reports false when it promised someone else.
func (g *Globals) promise(who string) bool {
	g.promiseMu.Lock()
	defer g.promiseMu.Unlock()
	now := time.Now()
	if g.promisedTo != "" && g.promisedTo != who && now.Before(g.promiseUntil) {
		return false
	}
	g.promisedTo = who
	g.promiseUntil = now.Add(10*g.cfg.ReconcileInterval + 2*g.cfg.ApplyTimeout)
	return true
}

// tryBootstrap bootstraps the Raft group when this server is the first of
// the first BootstrapExpect alive servers and every alive server it sees
// confirms, over the internal transport, that it has no Raft state and has
// promised no other bootstrapper, and every candidate that it sees the same
// candidates. Only one node calls BootstrapCluster, with the full set of
// initial voters; the others learn the configuration from the leader. A
// server that finds a group anywhere waits to be added to it: so a node
// started alone (BootstrapExpect 1) that joins an existing grid does not
// start a second group.
func (g *Globals) tryBootstrap() {
	expect := g.cfg.BootstrapExpect
	if expect == 0 {
		return
	}
	cands := g.candidates()
	if len(cands) < expect {
		if time.Since(g.waitLog) > 5*time.Second {
			g.waitLog = time.Now()
			g.log.Info("globals: waiting for servers before bootstrapping Raft", "expect", expect, "seen", len(cands))
		}
		return
	}
	if cands[0].Name != g.self {
		return // the first one bootstraps; we will be contacted
	}
	if !g.promise(g.self) {
		return
	}
	names := make([]string, len(cands))
	for i, m := range cands {
		names[i] = m.Name
	}
	req, _ := json.Marshal(probeRequest{From: g.self, Candidates: names})
	ctx, cancel := context.WithTimeout(g.ctx, g.cfg.ApplyTimeout)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		fail error
	)
	for _, m := range g.aliveServers() {
		if m.Name == g.self {
			continue
		}
		candidate := slices.ContainsFunc(cands, func(c cluster.Member) bool { return c.Name == m.Name })
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := g.probe(ctx, m, req, names, candidate)
			if err != nil {
				mu.Lock()
				fail = errors.Join(fail, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if fail != nil {
		g.log.Info("globals: not bootstrapping yet", "reason", fail)
		return
	}
	var conf raft.Configuration
	for _, m := range cands {
		conf.Servers = append(conf.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(m.Name), Address: raft.ServerAddress(m.Addrs.Raft)})
	}
	err := g.wait(ctx, g.raft.BootstrapCluster(conf))
	switch {
	case err == nil:
		g.log.Info("globals: bootstrapped the Raft group", "voters", names)
	case errors.Is(err, raft.ErrCantBootstrap):
		g.log.Info("globals: Raft state already exists; not bootstrapping")
	default:
		g.log.Warn("globals: bootstrap failed", "err", err)
		return
	}
	g.bootstrapped.Store(true)
}

// probe asks server m whether it agrees to the bootstrap; a candidate must
// also see the same candidates.
func (g *Globals) probe(ctx context.Context, m cluster.Member, req []byte, names []string, candidate bool) error {
	b, err := g.tr.Call(ctx, m.Addrs.Transport, msgProbe, req)
	if err != nil {
		return err
	}
	var resp probeResponse
	if err := json.Unmarshal(b, &resp); err != nil {
		return err
	}
	switch {
	case resp.HasState:
		g.bootstrapped.Store(true) // a group exists: wait to be added to it
		g.log.Warn("globals: a server already has Raft state; waiting to be added to its group instead of bootstrapping", "server", m.Name)
		return errors.New(m.Name + " already has Raft state")
	case resp.NotServer:
		return errors.New(m.Name + " is not a server")
	case resp.Busy:
		return errors.New(m.Name + " promised another bootstrapper")
	case candidate && !slices.Equal(resp.Candidates, names):
		return errors.New(m.Name + " sees other servers: " + jsonString(resp.Candidates))
	}
	return nil
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
