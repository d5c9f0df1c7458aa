package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Node is this process's membership in the grid.
type Node struct {
	cfg    Config
	log    *slog.Logger
	meta   Meta
	ml     *memberlist.Memberlist
	events hub

	mu      sync.Mutex // guards members, joinErr, closed
	members map[string]Member
	joinErr error // nil once joined
	closed  bool

	metaMu    sync.Mutex // guards metaBytes
	metaBytes []byte     // what NodeMeta advertises

	stop chan struct{} // closed by Close
	done chan struct{} // closed when the reconnect loop exits

	refusedMu sync.Mutex // guards refused
	refused   map[string]time.Time
}

// New binds the gossip listener and starts memberlist, but contacts no one:
// call Join next. The node is not Ready until Join succeeds.
func New(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("component", "cluster", "node", cfg.Name)
	id, err := newID()
	if err != nil {
		return nil, fmt.Errorf("cluster: node id: %w", err)
	}
	n := &Node{
		cfg:     cfg,
		log:     logger,
		meta:    cfg.meta(id),
		members: make(map[string]Member),
		joinErr: ErrNotJoined,
		refused: make(map[string]time.Time),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	if n.metaBytes, err = encodeMeta(n.meta); err != nil {
		return nil, fmt.Errorf("cluster: encode metadata: %w", err)
	}
	mlLogger := log.New(NewLogWriter(logger), "", 0)
	mc := cfg.memberlistConfig()
	tr, port, err := newGossipTransport(cfg, mlLogger)
	if err != nil {
		return nil, err
	}
	if mc.BindPort == 0 {
		mc.BindPort = port
		if mc.AdvertisePort == 0 {
			mc.AdvertisePort = port
		}
	} else if mc.AdvertisePort == 0 {
		mc.AdvertisePort = mc.BindPort
	}
	mc.Transport = tr
	mc.Logger = mlLogger
	d := delegate{n: n}
	mc.Delegate, mc.Events, mc.Alive, mc.Merge = d, d, d, d
	if n.ml, err = memberlist.Create(mc); err != nil {
		_ = tr.Shutdown()
		return nil, fmt.Errorf("cluster: start memberlist: %w", err)
	}
	n.log.Info("cluster: node started", "id", id, "gossip", n.ml.LocalNode().Address(), "role", cfg.Role)
	go n.reconnectLoop()
	return n, nil
}

// reconnectLoop periodically contacts members declared dead, so that the
// sides of a healed network cut find each other again.
func (n *Node) reconnectLoop() {
	defer close(n.done)
	t := time.NewTicker(n.cfg.ReconnectInterval)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
		if n.Ready() != nil {
			continue
		}
		var addrs []string
		n.mu.Lock()
		for _, m := range n.members {
			if m.State == StateDead && time.Since(m.Since) < n.cfg.DeadRetention {
				addrs = append(addrs, m.Gossip)
			}
		}
		n.mu.Unlock()
		for _, a := range addrs {
			select {
			case <-n.stop:
				return
			default:
			}
			if k, err := n.ml.Join([]string{a}); k > 0 {
				n.log.Info("cluster: reconnected to a member declared dead", "addr", a)
			} else {
				n.log.Debug("cluster: reconnect failed", "addr", a, "err", err)
			}
		}
	}
}

func newID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// Name returns the node's stable name.
func (n *Node) Name() string { return n.cfg.Name }

// ID returns the node's id for this start.
func (n *Node) ID() string { return n.meta.ID }

// Config returns the node's configuration.
func (n *Node) Config() Config { return n.cfg }

// Local returns this node as a Member.
func (n *Node) Local() Member {
	return Member{Name: n.cfg.Name, Meta: n.meta, Gossip: n.ml.LocalNode().Address(), State: StateAlive}
}

// GossipAddr returns the address peers use to gossip with this node (what
// others pass to Join).
func (n *Node) GossipAddr() string { return n.ml.LocalNode().Address() }

// Join contacts the seeds ("host:port", DNS names allowed) and merges state
// with them, retrying with backoff until at least one seed other than this
// node answers or ctx ends. Seeds that resolve to this node are skipped;
// with no other seed at all the node is the grid's first member and Join
// succeeds at once. On failure the error wraps ErrJoinFailed and says why
// each attempt failed; the node then stays not Ready and must not serve.
func (n *Node) Join(ctx context.Context, seeds []string) error {
	backoff := n.cfg.JoinRetryMin
	var lastErr error
	for attempt := 1; ; attempt++ {
		addrs, err := n.resolve(ctx, seeds)
		switch {
		case err == nil && len(addrs) == 0:
			n.setJoined(nil)
			n.log.Info("cluster: no seed other than this node: starting a new grid")
			return nil
		case err == nil:
			var k int
			k, err = n.ml.Join(addrs)
			if k > 0 {
				n.setJoined(nil)
				n.log.Info("cluster: joined", "seeds_reached", k, "members", n.ml.NumMembers(), "attempts", attempt)
				return nil
			}
			if err == nil {
				err = errors.New("no seed answered")
			}
		}
		lastErr = err
		n.log.Warn("cluster: join attempt failed", "attempt", attempt, "seeds", seeds, "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			err := fmt.Errorf("%w after %d attempts (%v) with seeds %v: %w", ErrJoinFailed, attempt, ctx.Err(), seeds, lastErr)
			n.setJoined(err)
			n.log.Error("cluster: join failed: this node will not serve", "err", err)
			return err
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, n.cfg.JoinRetryMax)
	}
}

// resolve turns seeds into ip:port addresses, without this node's own.
func (n *Node) resolve(ctx context.Context, seeds []string) ([]string, error) {
	self := n.ml.LocalNode()
	var out []string
	var errs []error
	for _, s := range seeds {
		host, portStr, err := net.SplitHostPort(s)
		if err != nil {
			host, portStr = s, strconv.Itoa(n.cfg.BindPort)
			if n.cfg.BindPort == 0 {
				errs = append(errs, fmt.Errorf("seed %q: no port", s))
				continue
			}
		}
		port, err := strconv.Atoi(portStr)
		if err != nil {
			errs = append(errs, fmt.Errorf("seed %q: bad port", s))
			continue
		}
		ips, err := net.DefaultResolver.LookupHost(ctx, host)
		if err != nil {
			errs = append(errs, fmt.Errorf("seed %q: %w", s, err))
			continue
		}
		for _, ipStr := range ips {
			ip := net.ParseIP(ipStr)
			if ip == nil || (port == int(self.Port) && isLocalIP(ip, self.Addr)) {
				continue
			}
			out = append(out, net.JoinHostPort(ipStr, portStr))
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// isLocalIP reports whether ip is this host's: the advertised address, a
// loopback or unspecified address, or an address of a local interface.
func isLocalIP(ip, advertised net.IP) bool {
	if ip.Equal(advertised) || ip.IsLoopback() || ip.IsUnspecified() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.Equal(ip) {
			return true
		}
	}
	return false
}

func (n *Node) setJoined(err error) {
	n.mu.Lock()
	n.joinErr = err
	n.mu.Unlock()
}

// Ready returns nil once the node has joined the grid, otherwise why it may
// not serve: ErrNotJoined before Join, an error wrapping ErrJoinFailed after
// a failed Join, an error after Close.
func (n *Node) Ready() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("cluster: node closed")
	}
	return n.joinErr
}

// Members returns every member this node knows, itself included: alive and
// suspect members, and dead or left ones for Config.DeadRetention. The
// result is sorted by name.
func (n *Node) Members() []Member {
	live := n.ml.Members()
	suspect := make(map[string]bool, len(live))
	for _, m := range live {
		if m.State == memberlist.StateSuspect {
			suspect[m.Name] = true
		}
	}
	n.mu.Lock()
	out := make([]Member, 0, len(n.members))
	for name, m := range n.members {
		if (m.State == StateDead || m.State == StateLeft) && time.Since(m.Since) > n.cfg.DeadRetention {
			delete(n.members, name)
			continue
		}
		if m.State == StateAlive && suspect[name] {
			m.State = StateSuspect
		}
		out = append(out, m)
	}
	n.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}

// Member returns the member named name.
func (n *Node) Member(name string) (Member, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	m, ok := n.members[name]
	return m, ok
}

// Subscribe returns a subscription to membership events. Events are
// delivered in the order memberlist reports them; a full channel drops
// (see Subscription). Close it when done; Node.Close closes it too.
func (n *Node) Subscribe() *Subscription {
	return n.events.subscribe(n.cfg.EventBuffer)
}

// HealthScore returns memberlist's awareness score (0 is healthy; higher
// means this node itself is slow to answer probes).
func (n *Node) HealthScore() int { return n.ml.GetHealthScore() }

// Leave tells the grid this node is leaving and waits, up to ctx's
// deadline, for the message to spread. Call Close afterwards.
func (n *Node) Leave(ctx context.Context) error {
	timeout := 5 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	// Flag the leave in our metadata first, so that peers can tell it from a
	// failure when the leave message arrives.
	meta := n.meta
	meta.Leaving = true
	if b, err := encodeMeta(meta); err == nil {
		n.metaMu.Lock()
		n.metaBytes = b
		n.metaMu.Unlock()
		if err := n.ml.UpdateNode(max(timeout/2, 100*time.Millisecond)); err != nil {
			n.log.Warn("cluster: could not announce the leave", "err", err)
		}
		if dl, ok := ctx.Deadline(); ok {
			timeout = time.Until(dl)
		}
	}
	// memberlist's Leave waits forever for a timeout that is not positive:
	// a deadline already passed (a drain that used it all) still gets a
	// short, bounded leave.
	if timeout < 200*time.Millisecond {
		timeout = 200 * time.Millisecond
	}
	if err := n.ml.Leave(timeout); err != nil {
		return fmt.Errorf("cluster: leave: %w", err)
	}
	n.log.Info("cluster: left the grid")
	return nil
}

// Close stops gossip without a leave message (peers will declare this node
// dead, as after a crash, unless Leave ran first) and closes every
// subscription. It is idempotent.
func (n *Node) Close(ctx context.Context) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	n.mu.Unlock()
	close(n.stop)
	err := n.ml.Shutdown() // also makes a reconnect attempt in flight fail fast
	<-n.done
	n.events.close()
	if err != nil {
		return fmt.Errorf("cluster: close: %w", err)
	}
	return nil
}
