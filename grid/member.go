package grid

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/partition"
	"github.com/sessiongrid/sessiongrid/replication"
	"github.com/sessiongrid/sessiongrid/transport"
)

// MemberConfig configures a whole grid member: membership, the internal
// transport, the globals' Raft server (server role only) and the grid node.
// Fields left zero take the defaults of the sub-configs.
type MemberConfig struct {
	// Cluster configures gossip. Its Name, Role, Partitions and Addrs are
	// filled in by StartMember (Addrs.Client and Addrs.HTTP are kept).
	Cluster cluster.Config
	// Transport configures the internal transport.
	Transport transport.Config
	// Globals configures the Raft group (used by the server role only).
	Globals replication.GlobalsConfig
	// Grid configures partitions and routing.
	Grid Config
	// Seeds are gossip addresses ("host:port", DNS names allowed) of
	// members to join; none starts a new grid.
	Seeds []string
	// JoinTimeout bounds the join (retried until then); 30 s when 0.
	JoinTimeout time.Duration
	// Secret, when set, is the cluster's shared secret: it encrypts gossip
	// (its SHA-256 is the AES key) and authenticates the internal transport.
	// Every member must have the same secret.
	Secret []byte
	// Advertise is the host peers use to reach this member's listeners when
	// they bind an unspecified address (containers); default: the host's
	// first non-loopback address.
	Advertise string
	// Logger receives every component's logs.
	Logger *slog.Logger
}

// Member is a running grid member. Create it with StartMember.
type Member struct {
	Cluster   *cluster.Node
	Transport *transport.Transport
	Globals   *replication.Globals
	Node      *Node
	remote    *RemoteLog
	logger    *slog.Logger
	closed    chan struct{}
}

// advertiseHost picks the host peers dial for a listener bound to host.
func advertiseHost(bindHost, advertise string) (string, error) {
	if advertise != "" {
		return advertise, nil
	}
	if ip := net.ParseIP(bindHost); bindHost != "" && (ip == nil || !ip.IsUnspecified()) {
		return bindHost, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
			return ipn.IP.String(), nil
		}
	}
	return "127.0.0.1", nil
}

// listen opens addr and returns the listener and the address peers dial.
func listen(addr, advertise string) (net.Listener, string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	host, _, _ := net.SplitHostPort(addr)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	adv, err := advertiseHost(host, advertise)
	if err != nil {
		l.Close()
		return nil, "", err
	}
	return l, net.JoinHostPort(adv, port), nil
}

// listenUnlessGiven opens the listener *l on bind when the configuration
// gave none, and sets *adv to the address peers reach it at when that is
// unset; what names the listener in the error.
func listenUnlessGiven(l *net.Listener, adv *string, bind, advertise, what string) error {
	if *l != nil {
		return nil
	}
	nl, a, err := listen(bind, advertise)
	if err != nil {
		return fmt.Errorf("grid: %s listener %s: %w", what, bind, err)
	}
	*l = nl
	if *adv == "" {
		*adv = a
	}
	return nil
}

// StartMember starts every component, joins the grid and returns once this
// member may serve. A member whose join fails returns an error and serves
// nothing: it never forms a grid of its own. On error, everything started is
// closed again.
func StartMember(ctx context.Context, cfg MemberConfig) (m *Member, err error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if cfg.Grid.Partitions == 0 {
		cfg.Grid.Partitions = partition.DefaultCount
	}
	role := cfg.Cluster.Role
	if role == "" {
		role = cluster.RoleServer
	}
	m = &Member{logger: logger, closed: make(chan struct{})}
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	// closing runs a Close with a bounded context, for the undo list.
	closing := func(close func(context.Context) error) func() {
		return func() {
			c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			close(c)
		}
	}

	tcfg := cfg.Transport
	tcfg.Logger = logger
	if len(cfg.Secret) > 0 {
		tcfg.Secret = cfg.Secret
	}
	if err := listenUnlessGiven(&tcfg.Listener, &tcfg.Advertise, tcfg.BindAddr, cfg.Advertise, "internal transport"); err != nil {
		return nil, err
	}
	if m.Transport, err = transport.New(tcfg); err != nil {
		return nil, fmt.Errorf("grid: internal transport: %w", err)
	}
	undo = append(undo, closing(m.Transport.Close))

	gcfg := cfg.Globals
	gcfg.Logger = logger
	ccfg := cfg.Cluster
	ccfg.Role = role
	ccfg.Partitions = cfg.Grid.Partitions
	ccfg.Logger = logger
	ccfg.Addrs.Transport = m.Transport.Addr()
	if len(cfg.Secret) > 0 {
		key := sha256.Sum256(cfg.Secret)
		ccfg.SecretKey = key[:]
	}
	if role == cluster.RoleServer {
		if err := listenUnlessGiven(&gcfg.RaftListener, &gcfg.RaftAdvertise, gcfg.RaftBind, cfg.Advertise, "raft"); err != nil {
			return nil, err
		}
		ccfg.Addrs.Raft = gcfg.RaftAdvertise
	}
	if ccfg.AdvertiseAddr == "" && cfg.Advertise != "" {
		ccfg.AdvertiseAddr = cfg.Advertise
	}
	if m.Cluster, err = cluster.New(ccfg); err != nil {
		if gcfg.RaftListener != nil {
			gcfg.RaftListener.Close()
		}
		return nil, err
	}
	undo = append(undo, closing(m.Cluster.Close))
	jt := cfg.JoinTimeout
	if jt == 0 {
		jt = 30 * time.Second
	}
	jctx, cancel := context.WithTimeout(ctx, jt)
	err = m.Cluster.Join(jctx, cfg.Seeds)
	cancel()
	if err != nil {
		if gcfg.RaftListener != nil {
			gcfg.RaftListener.Close()
		}
		return nil, err
	}
	if m.Globals, err = replication.NewGlobals(gcfg, m.Cluster, m.Transport); err != nil {
		if gcfg.RaftListener != nil {
			gcfg.RaftListener.Close()
		}
		return nil, err
	}
	undo = append(undo, closing(m.Globals.Close))

	var log TableLog
	if role == cluster.RoleServer {
		log = NewRaftLog(m.Globals)
	} else {
		m.remote = NewRemoteLog(m.Cluster, m.Transport, 0)
		undo = append(undo, m.remote.Close)
		log = m.remote
	}
	grcfg := cfg.Grid
	grcfg.Logger = logger
	if m.Node, err = New(grcfg, m.Cluster, m.Transport, log, m.Globals); err != nil {
		return nil, err
	}
	return m, nil
}

// WaitReady waits until the grid has a partition table (the first one is
// planned once the Raft group has a leader), or ctx ends.
func (m *Member) WaitReady(ctx context.Context) error {
	for {
		if len(m.Node.Table().Partitions) > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("grid: no partition table yet (is the Raft group bootstrapped? see --bootstrap-expect): %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// leaveGrace bounds the leave steps of Leave after the drain, and the
// close after them, when the caller's deadline leaves less.
const leaveGrace = 3 * time.Second

// Leave hands every owned partition over, leaves the gossip group and
// closes the member: a graceful exit that loses no session.
func (m *Member) Leave(ctx context.Context) error {
	var errs []error
	if err := m.Node.Drain(ctx); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, m.Depart(ctx))
	return errors.Join(errs...)
}

// Depart leaves the Raft group (handing leadership over) and the gossip
// group, and closes the member, without handing partitions over first
// (Leave does that): after a Drain that may have run out of time. The drain
// may have used the whole deadline (every member stopping at once cannot
// hand anything over), so these steps get a few seconds of their own when
// ctx leaves less: a member always exits.
func (m *Member) Depart(ctx context.Context) error {
	var errs []error
	lctx, cancel := context.WithTimeout(context.Background(), leaveGrace)
	defer cancel()
	if d, ok := ctx.Deadline(); ok && time.Until(d) > leaveGrace {
		lctx = ctx
	}
	if err := m.Globals.Leave(lctx); err != nil {
		errs = append(errs, err)
	}
	if err := m.Cluster.Leave(lctx); err != nil {
		errs = append(errs, err)
	}
	// Closing gets its own budget: the leave steps may have used theirs
	// (a leadership transfer nobody can take), and a close cut short would
	// leave Raft's goroutines running.
	cctx, ccancel := context.WithTimeout(context.Background(), leaveGrace)
	defer ccancel()
	if d, ok := ctx.Deadline(); ok && time.Until(d) > leaveGrace {
		cctx = ctx
	}
	errs = append(errs, m.Close(cctx))
	return errors.Join(errs...)
}

// Close stops the member without handing anything over (as a crash would,
// for the partitions it owns). Idempotent.
func (m *Member) Close(ctx context.Context) error {
	select {
	case <-m.closed:
		return nil
	default:
		close(m.closed)
	}
	var errs []error
	errs = append(errs, m.Node.Close(ctx))
	if m.remote != nil {
		m.remote.Close()
	}
	errs = append(errs, m.Globals.Close(ctx))
	errs = append(errs, m.Cluster.Close(ctx))
	errs = append(errs, m.Transport.Close(ctx))
	return errors.Join(errs...)
}
