package grid

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/partition"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
	"github.com/sessiongrid/sessiongrid/transport"
)

// Membership is what a Node needs of cluster membership (*cluster.Node).
type Membership interface {
	Local() cluster.Member
	Members() []cluster.Member
}

// Globals is the grid-wide map of globals (replication.Globals adapted).
type Globals interface {
	Save(ctx context.Context, key string, value []byte) error
	Get(ctx context.Context, key string) ([]byte, error)
	Evict(ctx context.Context, key string) (bool, error)
	All(ctx context.Context) (map[string][]byte, error)
}

// Node is one member's share of the grid: the partitions it holds, the
// router every local caller uses, the handlers peers call, and — while this
// member coordinates — the planner. Create it with New; Close stops it.
type Node struct {
	cfg     Config
	self    string
	mem     Membership
	tr      *transport.Transport
	log     TableLog
	globals Globals
	logger  *slog.Logger

	parts []*part
	table atomic.Pointer[partition.Table] // the table in force here

	tmu     sync.Mutex    // guards tableCh
	tableCh chan struct{} // closed when a new table is applied

	addrs atomic.Pointer[map[string]string] // member name -> transport address

	mmu       sync.Mutex // guards migrating and draining
	migrating map[int]bool
	draining  map[string]time.Time // coordinator: members asking to leave
	leaving   atomic.Bool

	migrations chan struct{} // semaphore of running migrations

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// part is one partition as this member holds it.
type part struct {
	gate     sync.RWMutex // operations hold it shared; a handoff freezes it
	store    atomic.Pointer[memory.Store]
	tracking atomic.Bool // a migration is recording written keys
	dmu      sync.Mutex  // guards dirty
	dirty    map[string]struct{}
}

// New starts a node over membership, the internal transport, the table log
// and the globals map. It registers its handlers on tr.
func New(cfg Config, mem Membership, tr *transport.Transport, log TableLog, globals Globals) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if mem == nil || tr == nil || log == nil || globals == nil {
		return nil, errors.New("grid: membership, transport, table log and globals are required")
	}
	cfg = cfg.withDefaults()
	n := &Node{
		cfg:        cfg,
		self:       mem.Local().Name,
		mem:        mem,
		tr:         tr,
		log:        log,
		globals:    globals,
		logger:     cfg.Logger.With("member", mem.Local().Name),
		parts:      make([]*part, cfg.Partitions),
		tableCh:    make(chan struct{}),
		migrating:  map[int]bool{},
		draining:   map[string]time.Time{},
		migrations: make(chan struct{}, cfg.MaxMigrations),
		stop:       make(chan struct{}),
	}
	for i := range n.parts {
		n.parts[i] = &part{}
	}
	n.table.Store(&partition.Table{})
	n.refreshAddrs()
	tr.Handle(msgOp, n.handleOp)
	tr.Handle(msgImport, n.handleImport)
	tr.Handle(msgSynced, n.handleSynced)
	tr.Handle(msgTable, n.handleTable)
	tr.Handle(msgScan, n.handleScan)
	tr.Handle(msgDrain, n.handleDrain)
	n.applyTable(log.Current())
	n.goFunc(n.tableLoop)
	n.goFunc(n.planLoop)
	n.goFunc(n.sweepLoop)
	return n, nil
}

func (n *Node) goFunc(f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

// Name returns this member's name.
func (n *Node) Name() string { return n.self }

// Table returns the table in force on this member.
func (n *Node) Table() partition.Table { return *n.table.Load() }

// Partition returns the partition of key.
func (n *Node) Partition(key string) int { return partition.ID(key, n.cfg.Partitions) }

// Owner returns the member that owns key's partition, "" before the first
// table.
func (n *Node) Owner(key string) string {
	t := n.table.Load()
	if len(t.Partitions) == 0 {
		return ""
	}
	return t.Owner(n.Partition(key))
}

// Close stops the node's goroutines. It does not leave the grid: call Leave
// first for a graceful exit that hands every partition over.
func (n *Node) Close(ctx context.Context) error {
	n.closeOnce.Do(func() { close(n.stop) })
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("grid: close: %w", ctx.Err())
	}
}

func (n *Node) stopped() bool {
	select {
	case <-n.stop:
		return true
	default:
		return false
	}
}

// tableLoop applies every new table of the log.
func (n *Node) tableLoop() {
	for {
		select {
		case <-n.stop:
			return
		case <-n.log.Changed():
			n.applyTable(n.log.Current())
		}
	}
}

// applyTable makes t the table in force here if it is newer: it drops the
// partitions this member no longer holds, gives fresh stores to partitions
// it starts to learn or own, and starts migrations of partitions it leads
// that have learners.
func (n *Node) applyTable(t partition.Table) {
	old := n.table.Load()
	if t.Epoch <= old.Epoch || len(t.Partitions) != n.cfg.Partitions {
		if t.Epoch > old.Epoch {
			n.logger.Error("table of another partition count ignored", "epoch", t.Epoch, "partitions", len(t.Partitions))
		}
		return
	}
	for p, a := range t.Partitions {
		pt := n.parts[p]
		isReplica, isLearner := slices.Contains(a.Replicas, n.self), slices.Contains(a.Learners, n.self)
		wasLearner := len(old.Partitions) > 0 && slices.Contains(old.Partitions[p].Learners, n.self)
		switch {
		case !isReplica && !isLearner:
			pt.store.Store(nil) // no longer held; in-flight readers finish on the old store
		case isLearner && !wasLearner:
			pt.store.Store(n.newStore()) // a new copy starts empty
		case isReplica && pt.store.Load() == nil:
			pt.store.Store(n.newStore()) // first table, or reseeded after a loss
		}
	}
	n.table.Store(&t)
	n.tmu.Lock()
	close(n.tableCh)
	n.tableCh = make(chan struct{})
	n.tmu.Unlock()
	for p, a := range t.Partitions {
		if a.Primary() == n.self && len(a.Learners) > 0 {
			for _, l := range a.Learners {
				n.startMigration(p, l)
			}
		}
	}
}

func (n *Node) newStore() *memory.Store {
	s, err := memory.New(n.cfg.Store)
	if err != nil { // the config was validated by New
		panic(fmt.Sprintf("grid: memory store: %v", err))
	}
	return s
}

// waitTable waits until the table in force has at least epoch, or ctx or
// the deadline ends. It returns whether the epoch was reached.
func (n *Node) waitTable(ctx context.Context, epoch uint64, deadline time.Time) bool {
	for {
		n.tmu.Lock()
		ch := n.tableCh
		n.tmu.Unlock()
		if n.table.Load().Epoch >= epoch {
			return true
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return false
		}
		t := time.NewTimer(wait)
		select {
		case <-ch:
			t.Stop()
		case <-t.C:
			return n.table.Load().Epoch >= epoch
		case <-ctx.Done():
			t.Stop()
			return false
		case <-n.stop:
			t.Stop()
			return false
		}
	}
}

// refreshAddrs rebuilds the name -> transport address map from membership.
func (n *Node) refreshAddrs() {
	m := map[string]string{}
	for _, mb := range n.mem.Members() {
		if mb.State == cluster.StateAlive || mb.State == cluster.StateSuspect {
			m[mb.Name] = mb.Addrs.Transport
		}
	}
	n.addrs.Store(&m)
}

func (n *Node) addrOf(name string) string {
	if a := (*n.addrs.Load())[name]; a != "" {
		return a
	}
	n.refreshAddrs()
	return (*n.addrs.Load())[name]
}

// sweepLoop reclaims expired sessions of the held partitions, 16
// partitions a tick, every partition once per SweepInterval.
func (n *Node) sweepLoop() {
	ticks := (len(n.parts) + 15) / 16
	t := time.NewTicker(n.cfg.SweepInterval / time.Duration(ticks))
	defer t.Stop()
	for i := 0; ; {
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
		for j := 0; j < 16; j++ {
			if s := n.parts[i].store.Load(); s != nil {
				s.Sweep(context.Background())
			}
			i = (i + 1) % len(n.parts)
		}
	}
}

// Stats sums the counters of the partitions this member holds.
func (n *Node) Stats() memory.Stats {
	var st memory.Stats
	for _, pt := range n.parts {
		if s := pt.store.Load(); s != nil {
			ps := s.Stats()
			st.Keys += ps.Keys
			st.Sessions += ps.Sessions
			st.Strings += ps.Strings
			st.Bytes += ps.Bytes
			st.Expired += ps.Expired
		}
	}
	return st
}

var errNoTable = fmt.Errorf("%w: the grid has no partition table yet", session.ErrUnavailable)
