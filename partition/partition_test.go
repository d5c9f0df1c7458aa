package partition_test

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sessiongrid/sessiongrid/partition"
)

func members(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("node-%d", i+1)
	}
	return out
}

func ring(t testing.TB, backups int, ms []string) *partition.Ring {
	t.Helper()
	r, err := partition.NewRing(partition.RingConfig{Backups: backups}, ms)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func aliveSet(ms []string) func(string) bool {
	set := map[string]bool{}
	for _, m := range ms {
		set[m] = true
	}
	return func(m string) bool { return set[m] }
}

func allInSync(int, string) bool { return true }

func TestID(t *testing.T) {
	for _, tc := range []struct {
		key   string
		count int
	}{{"263771234567", 271}, {"", 271}, {"用户", 7}, {"a", 1}} {
		p := partition.ID(tc.key, tc.count)
		if p < 0 || p >= tc.count || p != partition.ID(tc.key, tc.count) {
			t.Fatalf("ID(%q, %d) = %d", tc.key, tc.count, p)
		}
	}
}

func TestRingIsDeterministicAndValid(t *testing.T) {
	ms := members(5)
	r1 := ring(t, 2, ms)
	shuffled := slices.Clone(ms)
	slices.Reverse(shuffled)
	r2 := ring(t, 2, append(shuffled, "node-1")) // order and duplicates do not matter
	for p := 0; p < r1.Count(); p++ {
		a, b := r1.Target(p), r2.Target(p)
		if !slices.Equal(a, b) {
			t.Fatalf("p%d: %v vs %v", p, a, b)
		}
		if len(a) != 3 {
			t.Fatalf("p%d has %d replicas, want 3", p, len(a))
		}
		seen := map[string]bool{}
		for _, m := range a {
			if seen[m] {
				t.Fatalf("p%d: member %s twice in %v", p, m, a)
			}
			seen[m] = true
		}
	}
	if r := ring(t, 5, members(2)); len(r.Target(0)) != 2 {
		t.Fatalf("backups beyond members: %v", r.Target(0))
	}
	if _, err := partition.NewRing(partition.RingConfig{}, nil); err == nil {
		t.Fatal("empty member list accepted")
	}
	for _, cfg := range []partition.RingConfig{{Count: -1}, {Backups: -1}, {Load: 0.5}} {
		if _, err := partition.NewRing(cfg, members(3)); err == nil {
			t.Fatalf("config %+v accepted", cfg)
		}
	}
}

// TestRingInjectedHasher shows the ring takes any hasher (pure, testable).
func TestRingInjectedHasher(t *testing.T) {
	h := fnvHasher{}
	r, err := partition.NewRing(partition.RingConfig{Count: 17, Hasher: h}, members(3))
	if err != nil {
		t.Fatal(err)
	}
	for p := 0; p < 17; p++ {
		if len(r.Target(p)) != 1 {
			t.Fatalf("p%d: %v", p, r.Target(p))
		}
	}
}

type fnvHasher struct{}

func (fnvHasher) Sum64(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

func TestApplyRejectsStaleSteps(t *testing.T) {
	tb := partition.NewTable(ring(t, 1, members(3)))
	a := tb.Partitions[0]
	for _, s := range []partition.Step{
		{Kind: partition.DropDead, Partition: 0, Member: "nobody"},
		{Kind: partition.AddLearner, Partition: 0, Member: a.Replicas[0]},
		{Kind: partition.Promote, Partition: 0, Member: "nobody"},
		{Kind: partition.MakePrimary, Partition: 0, Member: "nobody"},
		{Kind: partition.Reseed, Partition: 0, Member: "x"},
		{Kind: partition.DropReplica, Partition: 9999, Member: "x"},
	} {
		if _, err := tb.Apply([]partition.Step{s}); err == nil {
			t.Errorf("step %v applied", s)
		}
	}
	one := partition.Table{Epoch: 3, Partitions: []partition.Assignment{{Replicas: []string{"a"}}}}
	if _, err := one.Apply([]partition.Step{{Kind: partition.DropReplica, Member: "a"}}); err == nil {
		t.Error("dropped the last copy")
	}
	n, err := tb.Apply(nil)
	if err != nil || n.Epoch != tb.Epoch+1 {
		t.Fatalf("empty apply: epoch %d, err %v", n.Epoch, err)
	}
}

// TestPlanPromotesTheBackupOnDeath is the measured pitfall of DESIGN.md: the
// ring's new owner is usually not the backup, so the plan must promote the
// backup first and never hand the partition to an empty member.
func TestPlanPromotesTheBackupOnDeath(t *testing.T) {
	for _, n := range []int{3, 5, 10} {
		t.Run(fmt.Sprint(n, "members"), func(t *testing.T) {
			ms := members(n)
			tb := partition.NewTable(ring(t, 1, ms))
			dead := ms[0]
			alive := slices.DeleteFunc(slices.Clone(ms), func(m string) bool { return m == dead })
			next := ring(t, 1, alive)
			steps := partition.Plan(partition.PlanInput{
				Table: tb, Alive: aliveSet(alive), Ring: next,
				InSync: func(int, string) bool { return false }, // nothing copied yet
			})
			nt, err := tb.Apply(steps)
			if err != nil {
				t.Fatal(err)
			}
			ringMoved, moved := 0, 0
			for p, a := range tb.Partitions {
				if a.Primary() != dead {
					continue
				}
				moved++
				if next.Target(p)[0] != a.Replicas[1] {
					ringMoved++
				}
				if got := nt.Owner(p); got != a.Replicas[1] {
					t.Fatalf("p%d: primary after death is %q, want the backup %q", p, got, a.Replicas[1])
				}
			}
			t.Logf("%d members: %d partitions lost their primary; the ring alone would have moved %d of them to a member without the data", n, moved, ringMoved)
			for _, s := range steps {
				if s.Kind == partition.Reseed {
					t.Fatalf("reseeded %v with a backup alive", s)
				}
			}
		})
	}
}

// TestPlanConverges runs random membership changes and checks, after every
// round, that no acknowledged copy is dropped before its replacement is a
// full replica, and that the table reaches the ring's target.
func TestPlanConverges(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pool := members(8)
	alive := pool[:3]
	tb := partition.NewTable(ring(t, 1, alive))
	for change := 0; change < 30; change++ {
		// join or leave (never below 2 so that a backup always survives one death)
		if len(alive) > 2 && (len(alive) == len(pool) || r.IntN(2) == 0) {
			i := r.IntN(len(alive))
			alive = slices.Delete(slices.Clone(alive), i, i+1)
		} else {
			for _, m := range pool {
				if !slices.Contains(alive, m) {
					alive = append(slices.Clone(alive), m)
					break
				}
			}
		}
		target := ring(t, 1, alive)
		for round := 0; ; round++ {
			if round > 10 {
				t.Fatalf("change %d: no convergence after 10 rounds", change)
			}
			steps := partition.Plan(partition.PlanInput{Table: tb, Alive: aliveSet(alive), Ring: target, InSync: allInSync, MaxLearners: 50})
			if len(steps) == 0 {
				break
			}
			nt, err := tb.Apply(steps)
			if err != nil {
				t.Fatal(err)
			}
			for p := range nt.Partitions {
				before, after := tb.Partitions[p], nt.Partitions[p]
				live := slices.DeleteFunc(slices.Clone(before.Replicas), func(m string) bool { return !slices.Contains(alive, m) })
				if len(live) > 0 && len(after.Replicas) < min(len(live), 2) {
					t.Fatalf("change %d p%d: replicas %v -> %v dropped a live copy before its replacement", change, p, before.Replicas, after.Replicas)
				}
				synced := append(slices.Clone(live), before.Learners...) // every learner is in sync here
				if len(live) > 0 && !slices.Contains(synced, after.Primary()) {
					t.Fatalf("change %d p%d: primary %q holds no data (was %v)", change, p, after.Primary(), before.Replicas)
				}
			}
			tb = nt
		}
		for p := range tb.Partitions {
			if !slices.Equal(tb.Partitions[p].Replicas, target.Target(p)) || len(tb.Partitions[p].Learners) != 0 {
				t.Fatalf("change %d p%d: converged to %+v, target %v", change, p, tb.Partitions[p], target.Target(p))
			}
		}
	}
}

// TestBalanceAndMovement measures what issue 5 asks to report: partitions per
// member for 3, 5 and 10 members, and the fraction of partitions whose
// primary changes on one join (ideal 1/(N+1)).
func TestBalanceAndMovement(t *testing.T) {
	for _, n := range []int{3, 5, 10} {
		r := ring(t, 1, members(n))
		prim, _ := partition.NewTable(r).Counts()
		lo, hi := 1<<30, 0
		for _, c := range prim {
			lo, hi = min(lo, c), max(hi, c)
		}
		joined := ring(t, 1, members(n+1))
		moved := 0
		for p := 0; p < r.Count(); p++ {
			if r.Target(p)[0] != joined.Target(p)[0] {
				moved++
			}
		}
		frac := float64(moved) / float64(r.Count())
		ideal := 1 / float64(n+1)
		t.Logf("%2d members: primaries per member min %d max %d (mean %.1f); one join moves %.3f of primaries (ideal %.3f)",
			n, lo, hi, float64(r.Count())/float64(n), frac, ideal)
		if float64(hi) > 1.25*float64(r.Count())/float64(n)+1 {
			t.Errorf("%d members: max load %d over the 1.25 bound", n, hi)
		}
		if frac > 3*ideal {
			t.Errorf("%d members: a join moved %.3f of partitions, ideal %.3f", n, frac, ideal)
		}
	}
}
