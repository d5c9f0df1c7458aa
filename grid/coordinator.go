package grid

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/partition"
)

// drainTTL is how long a drain request counts; a leaving member repeats it.
const drainTTL = 5 * time.Second

// planLoop: on every member, re-kick migrations that stopped; on the
// coordinator, plan the next table and propose it.
func (n *Node) planLoop() {
	t := time.NewTicker(n.cfg.PlanInterval)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		case <-n.planKick: // a handoff settled: the next moves need not wait for the tick
		}
		n.refreshAddrs()
		for p, a := range n.table.Load().Partitions {
			if a.Primary() == n.self {
				for _, l := range a.Learners {
					n.startMigration(p, l)
				}
			}
		}
		if n.log.IsCoordinator() {
			if err := n.PlanNow(context.Background()); err != nil && !errors.Is(err, ErrNotCoordinator) {
				n.logger.Warn("planning failed", "err", err)
			}
		} else {
			n.lmu.Lock()
			n.coordinating = false
			n.lmu.Unlock()
		}
	}
}

// owners returns the members that should own partitions (the ring's
// members) and a test of who still holds data (alive, draining included).
func (n *Node) owners() (ring []string, alive func(string) bool) {
	now := time.Now()
	n.mmu.Lock()
	draining := map[string]bool{}
	for name, at := range n.draining {
		if now.Sub(at) < drainTTL {
			draining[name] = true
		} else {
			delete(n.draining, name)
		}
	}
	n.mmu.Unlock()
	live := map[string]bool{}
	for _, m := range n.mem.Members() {
		if m.State != cluster.StateAlive && m.State != cluster.StateSuspect {
			continue
		}
		if m.Role == cluster.RoleLite {
			continue
		}
		id := identity(m)
		live[id] = true
		if !draining[id] && !m.Leaving {
			ring = append(ring, id)
		}
	}
	// A member that looks gone may still hold a lease (cut off, paused):
	// it keeps its partitions until the lease has run out, so that no
	// backup is promoted while it may still serve.
	return ring, func(id string) bool { return live[id] || n.leaseMayHold(id) }
}

// PlanNow runs one planning round now (tests use it instead of waiting for
// the timer). Only the coordinator plans.
func (n *Node) PlanNow(ctx context.Context) error {
	if !n.log.IsCoordinator() {
		return ErrNotCoordinator
	}
	if n.planPaused.Load() { // a test holds the table still
		return nil
	}
	n.pmu.Lock() // one proposal at a time: each is computed from the table in force
	defer n.pmu.Unlock()
	members, alive := n.owners()
	if len(members) == 0 {
		return nil
	}
	t := n.log.Current()
	backups, async := t.Backups, t.AsyncBackups
	if len(t.Partitions) == 0 {
		backups, async = n.cfg.BackupCount, n.cfg.AsyncBackupCount
	}
	ring, err := partition.NewRing(partition.RingConfig{Count: n.cfg.Partitions, Backups: backups + async}, members)
	if err != nil {
		return err
	}
	if len(t.Partitions) == 0 {
		first := partition.NewTable(ring)
		first.Epoch = t.Epoch + 1
		first.Backups, first.AsyncBackups = backups, async
		return n.log.Propose(ctx, first)
	}
	steps := partition.Plan(partition.PlanInput{
		Table:       t,
		Alive:       alive,
		Ring:        ring,
		InSync:      func(int, string) bool { return false }, // learners become owners by handoff
		MaxLearners: n.cfg.MaxMigrations,
	})
	steps = n.switchesFirst(t, steps)
	if len(steps) == 0 {
		return nil
	}
	for _, s := range steps {
		switch s.Kind {
		case partition.Reseed:
			n.logger.Error("partition lost every copy; reseeded empty", "partition", s.Partition, "on", s.Member)
		case partition.DropDead:
			if t.Partitions[s.Partition].Primary() == s.Member {
				n.logger.Info("primary gone; its first backup takes over", "partition", s.Partition, "gone", s.Member)
			}
		}
	}
	next, err := t.Apply(steps)
	if err != nil {
		return err
	}
	return n.log.Propose(ctx, next)
}

// switchesFirst keeps the plan's changes of primary out of the table: a
// primary hands its partition over itself (freeze, wait until the new
// primary holds every write, switch), so the coordinator asks it to, and
// plans nothing else for that partition until the switch is done. A dead
// primary's replacement (DropDead) is not a switch: it happens only once
// the dead primary's lease has run out.
func (n *Node) switchesFirst(t partition.Table, steps []partition.Step) []partition.Step {
	switching := map[int]string{}
	for _, s := range steps {
		if s.Kind == partition.MakePrimary {
			switching[s.Partition] = s.Member
		}
	}
	if len(switching) == 0 {
		return steps
	}
	primaryDropped := map[int]bool{}
	for _, s := range steps {
		if s.Kind == partition.DropDead && t.Partitions[s.Partition].Primary() == s.Member {
			primaryDropped[s.Partition] = true
		}
	}
	out := steps[:0]
	for _, s := range steps {
		target, ok := switching[s.Partition]
		switch {
		case !ok, s.Kind == partition.DropDead:
			out = append(out, s)
		case s.Kind == partition.MakePrimary && !primaryDropped[s.Partition]:
			n.askSwitch(t, s.Partition, target)
		}
	}
	return out
}

// askSwitch asks p's primary to hand p to target, at most once a second.
func (n *Node) askSwitch(t partition.Table, p int, target string) {
	primary := t.Partitions[p].Primary()
	n.lmu.Lock()
	if at, ok := n.switchAsked[p]; ok && time.Since(at) < time.Second {
		n.lmu.Unlock()
		return
	}
	n.switchAsked[p] = time.Now()
	n.lmu.Unlock()
	req := appendList(nil, u64(uint64(p)), []byte(target))
	if primary == n.self {
		n.handleHandoff(context.Background(), req)
		return
	}
	addr := n.addrOf(primary)
	if addr == "" {
		return
	}
	n.goFunc(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n.tr.Call(ctx, addr, msgHandoff, req)
	})
}

// handleHandoff runs on a primary the coordinator asks to hand p over.
func (n *Node) handleHandoff(_ context.Context, b []byte) ([]byte, error) {
	items, rest, err := decodeList(b)
	if err != nil || len(rest) != 0 || len(items) != 2 {
		return nil, fmt.Errorf("%w: handoff request", errMalformed)
	}
	pv, err := getU64(items[0])
	if err != nil || pv >= uint64(n.cfg.Partitions) {
		return nil, fmt.Errorf("%w: handoff partition", errMalformed)
	}
	n.startSwitch(int(pv), string(items[1]))
	return encodeResponse(), nil
}

// handleSynced runs on the coordinator: a primary settles a handoff of its
// partition (see the handoff modes). The reply is the epoch of the table
// that settles it.
func (n *Node) handleSynced(ctx context.Context, b []byte) ([]byte, error) {
	items, rest, err := decodeList(b)
	if err != nil || len(rest) != 0 || len(items) != 4 || len(items[3]) != 1 {
		return nil, fmt.Errorf("%w: handoff request", errMalformed)
	}
	pv, err := getU64(items[0])
	if err != nil || pv >= uint64(n.cfg.Partitions) {
		return nil, fmt.Errorf("%w: handoff partition", errMalformed)
	}
	p, member, primary, mode := int(pv), string(items[1]), string(items[2]), items[3][0]
	if !n.log.IsCoordinator() {
		return nil, ErrNotCoordinator
	}
	n.pmu.Lock()
	defer n.pmu.Unlock()
	t := n.log.Current()
	a := t.Partitions[p]
	var steps []partition.Step
	switch {
	case mode == handoffQuery, a.Primary() != primary:
		// Settled already (switched, or the primary replaced): the table in
		// force says how.
		return encodeResponse(u64(t.Epoch)), nil
	case mode == handoffPromote && slices.Contains(a.Learners, member):
		steps = []partition.Step{{Kind: partition.Promote, Partition: p, Member: member}}
	case mode == handoffAbort && slices.Contains(a.Learners, member):
		steps = []partition.Step{{Kind: partition.DropDead, Partition: p, Member: member}}
	case mode == handoffSwitch && slices.Contains(a.Replicas[1:], member):
		steps = []partition.Step{{Kind: partition.MakePrimary, Partition: p, Member: member}}
	case mode > handoffQuery:
		return nil, fmt.Errorf("%w: handoff mode %d", errMalformed, mode)
	default:
		return encodeResponse(u64(t.Epoch)), nil
	}
	next, err := t.Apply(steps)
	if err != nil {
		return nil, err
	}
	if err := n.log.Propose(ctx, next); err != nil {
		return nil, err
	}
	select {
	case n.planKick <- struct{}{}:
	default:
	}
	return encodeResponse(u64(next.Epoch)), nil
}

// handleTable returns the table in force here and the coordinator's name
// (members without Raft follow the table this way).
func (n *Node) handleTable(context.Context, []byte) ([]byte, error) {
	return encodeTableReply(*n.table.Load(), n.log.Coordinator()), nil
}

// handleDrain runs on the coordinator: a leaving member asks that its
// partitions move away.
func (n *Node) handleDrain(_ context.Context, b []byte) ([]byte, error) {
	if len(b) == 0 || len(b) > 1024 {
		return nil, fmt.Errorf("%w: drain request", errMalformed)
	}
	n.mmu.Lock()
	n.draining[string(b)] = time.Now()
	n.mmu.Unlock()
	return encodeResponse(), nil
}

// Held returns how many partitions this member holds (as primary or
// learner) in the table in force.
func (n *Node) Held() int {
	c := 0
	for _, a := range n.table.Load().Partitions {
		if slices.Contains(a.Replicas, n.self) || slices.Contains(a.Learners, n.self) {
			c++
		}
	}
	return c
}

// Drain hands every partition this member owns over to the others, and
// returns once it holds none (or ctx ends). Call it before leaving the
// cluster: a graceful leave loses nothing. Requests keep being served (and
// forwarded) during the drain.
func (n *Node) Drain(ctx context.Context) error {
	n.leaving.Store(true)
	for {
		if n.Held() == 0 {
			return nil
		}
		coord := n.coordinator()
		switch {
		case coord == n.self:
			n.handleDrain(ctx, []byte(n.self))
			n.PlanNow(ctx)
		case coord != "":
			if addr := n.addrOf(coord); addr != "" {
				cctx, cancel := context.WithTimeout(ctx, time.Second)
				n.tr.Call(cctx, addr, msgDrain, []byte(n.self))
				cancel()
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("grid: drain: %d partitions still held: %w", n.Held(), ctx.Err())
		case <-n.stop:
			return errors.New("grid: drain: node closed")
		case <-time.After(n.cfg.PlanInterval / 2):
		}
	}
}

// encodeTable encodes a table: epoch, partition count, then per partition
// the replica list and the learner list.
func encodeTable(t partition.Table) []byte {
	b := binary.AppendUvarint(nil, t.Epoch)
	b = binary.AppendUvarint(b, uint64(len(t.Partitions)))
	for _, a := range t.Partitions {
		b = appendList(b, bs(a.Replicas...)...)
		b = appendList(b, bs(a.Learners...)...)
	}
	b = binary.AppendUvarint(b, uint64(t.Backups))
	return binary.AppendUvarint(b, uint64(t.AsyncBackups))
}

// DecodeTable decodes encodeTable's form (smart clients use it).
func DecodeTable(b []byte) (partition.Table, error) {
	var t partition.Table
	e, k := binary.Uvarint(b)
	if k <= 0 {
		return t, fmt.Errorf("%w: table epoch", errMalformed)
	}
	t.Epoch = e
	b = b[k:]
	c, k := binary.Uvarint(b)
	if k <= 0 || c > 1<<16 || c > uint64(len(b)) {
		return t, fmt.Errorf("%w: table size", errMalformed)
	}
	b = b[k:]
	t.Partitions = make([]partition.Assignment, c)
	for i := range t.Partitions {
		reps, rest, err := decodeList(b)
		if err != nil {
			return t, err
		}
		lrns, rest, err := decodeList(rest)
		if err != nil {
			return t, err
		}
		b = rest
		t.Partitions[i] = partition.Assignment{Replicas: strs(reps), Learners: strs(lrns)}
	}
	if len(b) > 0 { // tables written before backups existed end here
		var counts [2]uint64
		for i := range counts {
			v, k := binary.Uvarint(b)
			if k <= 0 || v > MaxBackups {
				return t, fmt.Errorf("%w: table backup counts", errMalformed)
			}
			counts[i], b = v, b[k:]
		}
		t.Backups, t.AsyncBackups = int(counts[0]), int(counts[1])
	}
	if len(b) != 0 {
		return t, fmt.Errorf("%w: table trailing bytes", errMalformed)
	}
	return t, nil
}
