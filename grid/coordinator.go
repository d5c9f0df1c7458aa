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
		live[m.Name] = true
		if !draining[m.Name] && !m.Leaving {
			ring = append(ring, m.Name)
		}
	}
	return ring, func(name string) bool { return live[name] }
}

// PlanNow runs one planning round now (tests use it instead of waiting for
// the timer). Only the coordinator plans.
func (n *Node) PlanNow(ctx context.Context) error {
	if !n.log.IsCoordinator() {
		return ErrNotCoordinator
	}
	members, alive := n.owners()
	if len(members) == 0 {
		return nil
	}
	ring, err := partition.NewRing(partition.RingConfig{Count: n.cfg.Partitions}, members)
	if err != nil {
		return err
	}
	t := n.log.Current()
	if len(t.Partitions) == 0 {
		first := partition.NewTable(ring)
		first.Epoch = t.Epoch + 1
		return n.log.Propose(ctx, first)
	}
	steps := partition.Plan(partition.PlanInput{
		Table:       t,
		Alive:       alive,
		Ring:        ring,
		InSync:      func(int, string) bool { return false }, // learners become owners by handoff
		MaxLearners: n.cfg.MaxMigrations,
	})
	if len(steps) == 0 {
		return nil
	}
	for _, s := range steps {
		if s.Kind == partition.Reseed {
			n.logger.Error("partition lost every copy; reseeded empty", "partition", s.Partition, "on", s.Member)
		}
	}
	next, err := t.Apply(steps)
	if err != nil {
		return err
	}
	return n.log.Propose(ctx, next)
}

// handleSynced runs on the coordinator: a primary whose learner is in sync
// (and whose partition is frozen) asks for the handoff, or aborts it. The
// reply is the epoch of the table that settles the question.
func (n *Node) handleSynced(ctx context.Context, b []byte) ([]byte, error) {
	items, rest, err := decodeList(b)
	if err != nil || len(rest) != 0 || len(items) != 4 {
		return nil, fmt.Errorf("%w: handoff request", errMalformed)
	}
	pv, err := getU64(items[0])
	if err != nil || pv >= uint64(n.cfg.Partitions) {
		return nil, fmt.Errorf("%w: handoff partition", errMalformed)
	}
	p, learner, primary, abort := int(pv), string(items[1]), string(items[2]), len(items[3]) == 1 && items[3][0] == 1
	if !n.log.IsCoordinator() {
		return nil, ErrNotCoordinator
	}
	t := n.log.Current()
	a := t.Partitions[p]
	var steps []partition.Step
	switch {
	case a.Primary() == learner && !abort:
		return encodeResponse(u64(t.Epoch)), nil // already handed over
	case a.Primary() != primary || !slices.Contains(a.Learners, learner):
		// Settled already (handed over, or the learner dropped): the table in
		// force says how.
		return encodeResponse(u64(t.Epoch)), nil
	case abort:
		steps = []partition.Step{{Kind: partition.DropDead, Partition: p, Member: learner}}
	default:
		steps = []partition.Step{
			{Kind: partition.Promote, Partition: p, Member: learner},
			{Kind: partition.MakePrimary, Partition: p, Member: learner},
			{Kind: partition.DropReplica, Partition: p, Member: primary},
		}
	}
	next, err := t.Apply(steps)
	if err != nil {
		return nil, err
	}
	if err := n.log.Propose(ctx, next); err != nil {
		return nil, err
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
		coord := n.log.Coordinator()
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
	return b
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
	if len(b) != 0 {
		return t, fmt.Errorf("%w: table trailing bytes", errMalformed)
	}
	return t, nil
}
