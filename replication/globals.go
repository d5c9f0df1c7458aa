package replication

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/internal/loglimit"
	"github.com/sessiongrid/sessiongrid/internal/shutdown"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/transport"
)

// Globals is one member's access to the grid's globals. On a server it runs
// a Raft server; on other members it forwards everything to a server.
type Globals struct {
	cfg    GlobalsConfig
	log    *slog.Logger
	node   *cluster.Node
	tr     *transport.Transport
	self   string
	server bool
	// partitions is the grid's partition count (the cluster node's): the
	// partition tables this member proposes or takes into force have it.
	partitions int

	// Set on servers only.
	raft     *raft.Raft
	fsm      *fsm
	bolt     *raftboltdb.BoltStore // nil when in memory
	stream   *streamLayer          // Raft's connections; nil before Raft starts
	hadState bool                  // Raft state existed at start
	sub      *cluster.Subscription

	ctx      context.Context // cancelled by Close
	cancel   context.CancelFunc
	loopDone chan struct{}
	wg       sync.WaitGroup // future waiters
	closed   atomic.Bool
	once     sync.Once

	readyTerm    atomic.Uint64 // term whose barrier this leader has applied
	bootstrapped atomic.Bool   // this node bootstrapped, or saw the group exist

	promiseMu    sync.Mutex // guards promisedTo, promiseUntil
	promisedTo   string
	promiseUntil time.Time

	goneSince map[raft.ServerID]time.Time // reconcile loop only
	waitLog   time.Time                   // bootstrap loop only: last "waiting" log

	// localReadHook, when set (tests only, before any read), is called by a
	// leader's read between the term's barrier and the leader check.
	localReadHook func()
}

// NewGlobals starts the globals of node: on a server (node role
// cluster.RoleServer) it opens the Raft stores under cfg.DataDir, starts
// Raft on cfg.RaftListener (or cfg.RaftBind) and the loop that bootstraps
// the group and, on the leader, reconciles it with membership. It registers
// its message handlers on tr. The node should have joined the grid; the
// node and the transport must outlive the Globals (close the Globals
// first).
func NewGlobals(cfg GlobalsConfig, node *cluster.Node, tr *transport.Transport) (*Globals, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if node == nil || tr == nil {
		return nil, errors.New("replication: NewGlobals needs a cluster node and a transport")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	local := node.Local()
	ctx, cancel := context.WithCancel(context.Background())
	g := &Globals{
		cfg:        cfg,
		log:        logger.With("component", "globals", "node", local.Name),
		node:       node,
		tr:         tr,
		self:       local.Name,
		partitions: local.Partitions,
		server:     local.Role == cluster.RoleServer,
		ctx:        ctx,
		cancel:     cancel,
		loopDone:   make(chan struct{}),
		goneSince:  make(map[raft.ServerID]time.Time),
	}
	if local.Addrs.Transport != tr.Addr() {
		cancel()
		return nil, fmt.Errorf("replication: the cluster node advertises transport address %q but the transport's is %q", local.Addrs.Transport, tr.Addr())
	}
	if !g.server {
		close(g.loopDone)
		g.registerHandlers()
		return g, nil
	}
	if err := g.startRaft(local); err != nil {
		cancel()
		return nil, err
	}
	g.registerHandlers()
	g.sub = node.Subscribe()
	go g.run()
	return g, nil
}

// startRaft opens the stores and starts the Raft server.
func (g *Globals) startRaft(local cluster.Member) (err error) {
	cfg := g.cfg
	hlog := hclog.New(&hclog.LoggerOptions{
		Name:        "raft",
		Level:       hclog.Info,
		Output:      cluster.NewLogWriter(g.log),
		DisableTime: true,
	})
	ln := cfg.RaftListener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.RaftBind); err != nil {
			return fmt.Errorf("replication: listen for Raft on %s: %w", cfg.RaftBind, err)
		}
	}
	var cleanup []func()
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
		}
	}()
	cleanup = append(cleanup, func() { _ = ln.Close() })
	advertise := cfg.RaftAdvertise
	if advertise == "" {
		advertise = ln.Addr().String()
	}
	advAddr, err := net.ResolveTCPAddr("tcp", advertise)
	if err != nil {
		return fmt.Errorf("replication: Raft advertise address %q: %w", advertise, err)
	}
	if advAddr.IP == nil || advAddr.IP.IsUnspecified() {
		return fmt.Errorf("replication: Raft advertise address %q is not one peers can dial: set RaftAdvertise", advertise)
	}
	if local.Addrs.Raft != advertise {
		return fmt.Errorf("replication: the cluster node advertises Raft address %q but Raft advertises %q", local.Addrs.Raft, advertise)
	}
	g.stream = &streamLayer{Listener: ln, advertise: advAddr, blocked: cfg.Blocked,
		auth: g.tr.Authenticator(), log: g.log, refusals: loglimit.New(10, time.Minute)}
	trans := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		ServerAddressProvider: addressProvider{node: g.node},
		Logger:                hlog,
		Stream:                g.stream,
		MaxPool:               3,
		Timeout:               cfg.ApplyTimeout,
	})
	cleanup = append(cleanup, func() { _ = trans.Close() })

	var (
		logs   raft.LogStore
		stable raft.StableStore
		snaps  raft.SnapshotStore
	)
	if cfg.DataDir == "" {
		mem := raft.NewInmemStore()
		logs, stable, snaps = mem, mem, raft.NewInmemSnapshotStore()
	} else {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return fmt.Errorf("replication: data directory: %w", err)
		}
		bolt, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(cfg.DataDir, "raft.db")})
		if err != nil {
			return fmt.Errorf("replication: open Raft log %s: %w", filepath.Join(cfg.DataDir, "raft.db"), err)
		}
		cleanup = append(cleanup, func() { _ = bolt.Close() })
		g.bolt = bolt
		logs, stable = bolt, bolt
		if snaps, err = raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, cfg.SnapshotRetain, hlog); err != nil {
			return fmt.Errorf("replication: snapshot store: %w", err)
		}
	}
	if g.hadState, err = raft.HasExistingState(logs, stable, snaps); err != nil {
		return fmt.Errorf("replication: read Raft state: %w", err)
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(g.self)
	rc.Logger = hlog
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	if err := raft.ValidateConfig(rc); err != nil {
		return fmt.Errorf("replication: raft config: %w", err)
	}
	g.fsm = newFSM()
	g.fsm.partitions = g.partitions
	if g.raft, err = raft.NewRaft(rc, g.fsm, logs, stable, snaps, trans); err != nil {
		return fmt.Errorf("replication: start Raft: %w", err)
	}
	g.log.Info("globals: Raft started", "raft_addr", advertise, "existing_state", g.hadState,
		"data_dir", cfg.DataDir, "bootstrap_expect", cfg.BootstrapExpect)
	if !g.tr.Authenticator().Secured() {
		g.log.Warn("globals: no cluster secret: the Raft port accepts RPCs from anyone who can reach it; set a secret (gridnode --secret)",
			"raft_addr", advertise)
	}
	return nil
}

// run is the background loop of a server: bootstrap attempts until the
// group exists, then, while leader, the read barrier and reconciliation.
func (g *Globals) run() {
	defer close(g.loopDone)
	ticker := time.NewTicker(g.cfg.ReconcileInterval)
	defer ticker.Stop()
	events := g.sub.C
	for {
		select {
		case <-g.ctx.Done():
			return
		case <-ticker.C:
		case _, ok := <-events:
			if !ok {
				events = nil // the node closed; keep ticking until we close
			}
		}
		g.step()
	}
}

func (g *Globals) step() {
	if !g.hasState() {
		g.tryBootstrap()
		return
	}
	if g.raft.State() == raft.Leader {
		if err := g.ensureReadable(g.ctx); err != nil {
			g.log.Debug("globals: leader barrier failed", "err", err)
			return
		}
		g.reconcile()
	}
}

// hasState reports whether this server belongs to a Raft group: it had
// state at start, bootstrapped one, or has received log entries.
func (g *Globals) hasState() bool {
	if g.hadState || g.bootstrapped.Load() {
		return true
	}
	if g.raft.LastIndex() > 0 {
		g.bootstrapped.Store(true)
		return true
	}
	return false
}

// wait waits for f, up to ctx's end or Close. Raft futures cannot be
// selected on, so a goroutine (tracked; it ends when raft resolves the
// future, at the latest when Raft shuts down) waits for it.
func (g *Globals) wait(ctx context.Context, f raft.Future) error {
	errc := make(chan error, 1)
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		errc <- f.Error()
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-g.ctx.Done():
		return fmt.Errorf("globals: %w", session.ErrClosed)
	}
}

// Leave prepares a graceful stop: a leader hands its leadership to another
// voter first, so that writes pause for one round trip instead of an
// election timeout. Call Close afterwards. The Raft configuration is not
// changed (see Close).
func (g *Globals) Leave(ctx context.Context) error {
	if !g.IsLeader() {
		return nil
	}
	if voters := g.Voters(ctx); len(voters) < 2 {
		return nil
	}
	if err := g.wait(ctx, g.raft.LeadershipTransfer()); err != nil {
		return raftError("leadership transfer", err)
	}
	g.log.Info("globals: handed leadership over before leaving")
	return nil
}

// Close stops the loop, shuts Raft down and closes the stores, waiting up to
// ctx's deadline. It does not change the Raft configuration: a server that
// closes is, for the others, a server that died (removed after
// DeadServerTimeout unless it comes back). It is idempotent.
func (g *Globals) Close(ctx context.Context) error {
	var err error
	g.once.Do(func() {
		g.closed.Store(true)
		g.cancel()
		if g.sub != nil {
			g.sub.Close()
		}
		select {
		case <-g.loopDone:
		case <-ctx.Done():
			err = fmt.Errorf("globals: close: %w", ctx.Err())
			return
		}
		if g.raft != nil {
			if e := g.raft.Shutdown().Error(); e != nil {
				err = fmt.Errorf("globals: Raft shutdown: %w", e)
			}
		}
		if e := shutdown.Wait(ctx, &g.wg); e != nil {
			err = fmt.Errorf("globals: close: %w", e)
			return
		}
		// Raft's transport is closed (Shutdown closes it), but its handlers
		// may still be applying a heartbeat to the log store.
		if g.stream != nil {
			if e := g.stream.wait(ctx); e != nil {
				err = fmt.Errorf("globals: close: Raft handlers: %w", e)
				return
			}
		}
		if g.bolt != nil {
			if e := g.bolt.Close(); e != nil && err == nil {
				err = fmt.Errorf("globals: close Raft log: %w", e)
			}
		}
		g.log.Info("globals: closed")
	})
	return err
}
