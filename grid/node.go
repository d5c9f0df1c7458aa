package grid

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/internal/shutdown"
	"github.com/sessiongrid/sessiongrid/partition"
	"github.com/sessiongrid/sessiongrid/replication"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
	"github.com/sessiongrid/sessiongrid/transport"
)

// Membership is what a Node needs of cluster membership (*cluster.Node).
type Membership interface {
	Local() cluster.Member
	Members() []cluster.Member
}

// Globals is the grid-wide map of globals: a *replication.Globals in
// production, an in-memory map in unit tests.
type Globals interface {
	Save(ctx context.Context, key string, value []byte) error
	Get(ctx context.Context, key string, opts ...replication.ReadOption) ([]byte, error)
	Evict(ctx context.Context, key string) (bool, error)
	All(ctx context.Context, opts ...replication.ReadOption) (map[string][]byte, error)
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
	// hooks are the RESP server's WATCH hooks (SetWatchHooks); nil until set.
	hooks atomic.Pointer[watchHooks]
	table atomic.Pointer[partition.Table] // the table in force here
	// applied is the epoch of the last table whose roles are set up here:
	// the table is in force (table) a moment before its roles are.
	applied atomic.Uint64

	tmu     sync.Mutex    // guards tableCh
	tableCh chan struct{} // closed when a new table is applied

	addrs atomic.Pointer[map[string]string] // member name -> transport address

	mmu       sync.Mutex // guards migrating and draining
	migrating map[int]bool
	draining  map[string]time.Time // coordinator: members asking to leave
	leaving   atomic.Bool

	migrations chan struct{} // semaphore of running migrations
	planKick   chan struct{} // asks the coordinator to plan now
	pmu        sync.Mutex    // coordinator: serializes table proposals

	start      time.Time     // origin of mono
	leaseUntil atomic.Int64  // mono time this member's lease runs out
	leaseEpoch atomic.Uint64 // the table epoch the lease needs applied

	lmu          sync.Mutex       // guards the coordinator's lease book below
	grants       map[string]int64 // member -> mono time of its last lease grant
	coordinating bool             // this member coordinated at the last look
	coordSince   int64            // mono time it became coordinator
	switchAsked  map[int]time.Time

	dropBackup atomic.Pointer[func(member string) bool] // test hook: lose backup messages to member
	planPaused atomic.Bool                              // test hook: the coordinator plans nothing

	qmu    sync.Mutex            // guards queues
	queues map[string]*peerQueue // replication queue per backup member

	metrics nodeMetrics
	bus     bus // grid-wide Pub/Sub and session events

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// part is one partition as this member holds it.
type part struct {
	gate     sync.RWMutex // operations hold it shared; a handoff freezes it
	store    atomic.Pointer[memory.Store]
	primary  atomic.Bool // set up as the partition's primary (after the table says so)
	repl     repl
	tracking atomic.Bool // a migration is recording written keys
	// gen changes whenever this member starts or stops leading the
	// partition (Generation); hooks is the node's.
	gen   atomic.Uint64
	hooks *atomic.Pointer[watchHooks]
	dmu   sync.Mutex // guards dirty
	dirty map[string]struct{}
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
		cfg:         cfg,
		self:        identity(mem.Local()),
		mem:         mem,
		tr:          tr,
		log:         log,
		globals:     globals,
		logger:      cfg.Logger.With("member", mem.Local().Name),
		start:       time.Now(),
		grants:      map[string]int64{},
		switchAsked: map[int]time.Time{},
		queues:      map[string]*peerQueue{},
		parts:       make([]*part, cfg.Partitions),
		tableCh:     make(chan struct{}),
		migrating:   map[int]bool{},
		draining:    map[string]time.Time{},
		migrations:  make(chan struct{}, cfg.MaxMigrations),
		stop:        make(chan struct{}),
	}
	n.bus.q = make(chan [2][]byte, publishQueue)
	for i := range n.parts {
		n.parts[i] = &part{hooks: &n.hooks}
	}
	n.table.Store(&partition.Table{})
	n.refreshAddrs()
	tr.Handle(msgOp, n.handleOp)
	tr.Handle(msgImport, n.handleImport)
	tr.Handle(msgSynced, n.handleSynced)
	tr.Handle(msgTable, n.handleTable)
	tr.Handle(msgScan, n.handleScan)
	tr.Handle(msgDrain, n.handleDrain)
	tr.Handle(msgBackup, n.handleBackup)
	tr.Handle(msgSnapshot, n.handleSnapshot)
	tr.Handle(msgLease, n.handleLease)
	tr.Handle(msgHandoff, n.handleHandoff)
	tr.Handle(msgSafe, n.handleSafe)
	tr.Handle(msgPublish, n.handlePublish)
	n.applyTable(log.Current())
	n.goFunc(n.tableLoop)
	n.goFunc(n.planLoop)
	n.goFunc(n.sweepLoop)
	n.goFunc(n.leaseLoop)
	n.goFunc(n.antiEntropyLoop)
	n.goFunc(n.publishLoop)
	return n, nil
}

func (n *Node) goFunc(f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

// Name returns this member's identity in the table: its name and the id of
// this start ("name#id").
func (n *Node) Name() string { return n.self }

// Table returns the table in force on this member.
func (n *Node) Table() partition.Table { return *n.table.Load() }

// Partition returns the partition of key.
func (n *Node) Partition(key string) int { return partition.ID(key, n.cfg.Partitions) }

// Owner returns the identity ("name#id") of the member that leads key's
// partition, "" before the first table.
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
	if err := shutdown.Wait(ctx, &n.wg); err != nil {
		return fmt.Errorf("grid: close: %w", err)
	}
	return nil
}

// stopContext returns a context that is cancelled when the node stops or
// cancel is called; the caller must call cancel.
func (n *Node) stopContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-n.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
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

// applyTable makes t the table in force here if it is newer, then sets up
// each partition's new role: it drops the copies this member no longer
// holds, gives fresh stores to partitions it starts to learn, starts the
// primary side (and the backups' resync) of partitions it now leads, stops
// it on partitions it no longer leads, and starts migrations of partitions
// it leads that have learners. The table is in force before roles change:
// a partition is served only once set up as primary (part.primary), and a
// backup entry is applied only while the table in force names its sender.
func (n *Node) applyTable(t partition.Table) {
	old := n.table.Load()
	if t.Epoch <= old.Epoch || len(t.Partitions) != n.cfg.Partitions {
		if t.Epoch > old.Epoch {
			n.logger.Error("table of another partition count ignored", "epoch", t.Epoch, "partitions", len(t.Partitions))
		}
		return
	}
	if len(old.Partitions) == 0 && (t.Backups != n.cfg.BackupCount || t.AsyncBackups != n.cfg.AsyncBackupCount) {
		n.logger.Warn("the grid's backup counts differ from this member's configuration; the grid's apply",
			"grid_backups", t.Backups, "grid_async_backups", t.AsyncBackups,
			"configured_backups", n.cfg.BackupCount, "configured_async_backups", n.cfg.AsyncBackupCount)
	}
	n.table.Store(&t)
	for p, a := range t.Partitions {
		var oa partition.Assignment
		if len(old.Partitions) > 0 {
			oa = old.Partitions[p]
		}
		n.setRole(p, t, oa, a)
	}
	n.applied.Store(t.Epoch)
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

// setRole moves partition p from its role in oa to its role in a.
func (n *Node) setRole(p int, t partition.Table, oa, a partition.Assignment) {
	pt := n.parts[p]
	r := &pt.repl
	isPrimary, isReplica, isLearner := a.Primary() == n.self, slices.Contains(a.Replicas, n.self), slices.Contains(a.Learners, n.self)
	wasPrimary, wasLearner := oa.Primary() == n.self, slices.Contains(oa.Learners, n.self)
	if !isReplica && !isLearner && pt.store.Load() == nil {
		return
	}
	r.wmu.Lock()
	r.bmu.Lock()
	defer r.bmu.Unlock()
	defer r.wmu.Unlock()
	was := pt.primary.Load()
	defer func() {
		if pt.primary.Load() != was {
			pt.gen.Add(1) // WATCH numbers taken before are void
		}
	}()
	switch {
	case !isReplica && !isLearner:
		pt.primary.Store(false)
		dropPrimaryLocked(r)
		pt.store.Store(nil) // no longer held; in-flight readers finish on the old store
		r.btenure, r.applied, r.staging = 0, 0, nil
	case isLearner && !wasLearner:
		pt.primary.Store(false)
		dropPrimaryLocked(r)
		pt.store.Store(n.newStore(pt)) // a new copy starts empty
		r.btenure, r.applied, r.staging = 0, 0, nil
	case isLearner:
	case isPrimary:
		becoming := !wasPrimary || !pt.primary.Load()
		if pt.store.Load() == nil { // the first table, or reseeded after a loss
			pt.store.Store(n.newStore(pt))
			r.btenure, r.applied = 0, 0
		}
		if becoming && len(oa.Replicas) > 0 && !wasPrimary {
			n.metrics.promotions.Add(1)
			n.logger.Info("partition promoted here", "partition", p, "epoch", t.Epoch, "seq", r.applied)
		}
		// Handed over by a switch (the old primary froze the partition, and
		// is still a replica): every entry it made is here, none beyond, so
		// the stream goes on in its tenure and the backups need no resync.
		// After a failover the dead primary may have sent the others entries
		// this copy lacks: a new tenure, and every backup is resynced.
		handedOver := becoming && !wasPrimary && oa.Primary() != "" && slices.Contains(a.Replicas, oa.Primary()) && r.btenure != 0
		n.setLinksLocked(pt, p, t, becoming, handedOver)
		pt.primary.Store(true)
	default: // a backup
		if pt.primary.Load() {
			pt.primary.Store(false)
			r.btenure, r.applied = r.tenure, r.seq
			dropPrimaryLocked(r)
		}
		if pt.store.Load() == nil { // the first table
			pt.store.Store(n.newStore(pt))
			r.btenure, r.applied = 0, 0
		}
	}
}

func (n *Node) newStore(pt *part) *memory.Store {
	cfg := n.cfg.Store
	cfg.Now = n.clock(pt)
	s, err := memory.New(cfg)
	if err != nil { // the config was validated by New
		panic(fmt.Sprintf("grid: memory store: %v", err))
	}
	n.watchStore(pt, s)
	return s
}

// waitTable waits until the table in force has at least epoch, or ctx or
// the deadline ends. It returns whether the epoch was reached.
func (n *Node) waitTable(ctx context.Context, epoch uint64, deadline time.Time) bool {
	for {
		n.tmu.Lock()
		ch := n.tableCh
		n.tmu.Unlock()
		if n.applied.Load() >= epoch {
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
			return n.applied.Load() >= epoch
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
			m[identity(mb)] = mb.Addrs.Transport
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
			if n.parts[i].primary.Load() { // expiry is the primary's decision
				n.sweepReplicated(i)
			}
			i = (i + 1) % len(n.parts)
		}
	}
}

// Stats sums the counters of the partitions this member leads: each
// session is counted once in the grid, on its primary. BackupStats sums
// the copies held for other primaries.
func (n *Node) Stats() memory.Stats { return n.sumStats(true) }

// BackupStats sums the counters of the backup and learner copies held here.
func (n *Node) BackupStats() memory.Stats { return n.sumStats(false) }

func (n *Node) sumStats(primaries bool) memory.Stats {
	var st memory.Stats
	for _, pt := range n.parts {
		if pt.primary.Load() != primaries {
			continue
		}
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

// identity names one start of a member in the table: its name and the id
// of this start. A member restarted under the same name is a new identity,
// so it is never taken for the replica it was before.
func identity(m cluster.Member) string { return m.Name + "#" + m.ID }

// nameOf returns the member name of an identity.
func nameOf(id string) string {
	if i := strings.LastIndexByte(id, '#'); i >= 0 {
		return id[:i]
	}
	return id
}

// aliveMembers returns the identities of the members alive (or suspect).
func (n *Node) aliveMembers() map[string]cluster.Member {
	out := map[string]cluster.Member{}
	for _, mb := range n.mem.Members() {
		if mb.State == cluster.StateAlive || mb.State == cluster.StateSuspect {
			out[identity(mb)] = mb
		}
	}
	return out
}

// coordinator returns the identity of the coordinator, "" if unknown.
func (n *Node) coordinator() string {
	name := n.log.Coordinator()
	if name == "" {
		return ""
	}
	if name == nameOf(n.self) {
		return n.self
	}
	for _, mb := range n.mem.Members() {
		if mb.Name == name && (mb.State == cluster.StateAlive || mb.State == cluster.StateSuspect) {
			return identity(mb)
		}
	}
	return ""
}

// nodeMetrics counts replication events (metrics, logs, /cluster).
type nodeMetrics struct {
	promotions   atomic.Uint64 // partitions this member took over as primary from a predecessor
	backupBreaks atomic.Uint64 // backup links that fell behind and needed a resync
	migrations   atomic.Uint64 // migrations to learners completed
	divergences  atomic.Uint64 // backup copies found different from their primary's (anti-entropy)
}

var errNoTable = fmt.Errorf("%w: the grid has no partition table yet", session.ErrUnavailable)
