package partition

import (
	"fmt"
	"slices"
)

// Assignment is who holds one partition.
type Assignment struct {
	// Replicas hold every acknowledged write, primary first.
	Replicas []string
	// Learners receive new writes and a snapshot but are not yet counted
	// for acknowledgements; Plan makes them replicas once they are in sync.
	Learners []string
}

// Primary returns the partition's primary, "" if it has none.
func (a Assignment) Primary() string {
	if len(a.Replicas) == 0 {
		return ""
	}
	return a.Replicas[0]
}

func (a Assignment) clone() Assignment {
	return Assignment{Replicas: slices.Clone(a.Replicas), Learners: slices.Clone(a.Learners)}
}

// Table is the partition table in force. Tables are values: Apply returns a
// new one and never changes its receiver.
type Table struct {
	Epoch      uint64
	Partitions []Assignment
	// Backups is the grid's count of synchronous backups per partition and
	// AsyncBackups that of asynchronous ones: the first table fixes them
	// for the grid's life, so every member agrees. Replicas[1:1+Backups] are
	// synchronous, the rest asynchronous.
	Backups      int
	AsyncBackups int
}

// NewTable returns the first table (epoch 1) placing every partition on
// the ring's target.
func NewTable(r *Ring) Table {
	t := Table{Epoch: 1, Partitions: make([]Assignment, r.Count())}
	for p := range t.Partitions {
		t.Partitions[p].Replicas = slices.Clone(r.Target(p))
	}
	return t
}

// Owner returns the primary of partition p.
func (t Table) Owner(p int) string { return t.Partitions[p].Primary() }

// Clone returns a deep copy.
func (t Table) Clone() Table {
	c := Table{Epoch: t.Epoch, Partitions: make([]Assignment, len(t.Partitions)), Backups: t.Backups, AsyncBackups: t.AsyncBackups}
	for i, a := range t.Partitions {
		c.Partitions[i] = a.clone()
	}
	return c
}

// Counts returns how many partitions each member is primary of and how
// many it holds as a backup.
func (t Table) Counts() (primaries, backups map[string]int) {
	primaries, backups = map[string]int{}, map[string]int{}
	for _, a := range t.Partitions {
		for i, m := range a.Replicas {
			if i == 0 {
				primaries[m]++
			} else {
				backups[m]++
			}
		}
	}
	return primaries, backups
}

// StepKind is the kind of one table change.
type StepKind uint8

// Step kinds, in the order Plan emits them for one partition.
const (
	// DropDead removes a member that is gone from a partition's replicas and
	// learners. When it was the primary, the next replica is promoted: it
	// holds every acknowledged write (invariant 2), so nothing is lost.
	DropDead StepKind = iota + 1
	// Reseed gives a partition whose every replica is gone a new, empty
	// primary. Its data is lost (more members failed than it had backups);
	// the step exists so that the partition serves again, and is reported.
	Reseed
	// AddLearner starts filling Member with the partition (snapshot plus
	// catch-up) without counting it yet.
	AddLearner
	// Promote makes an in-sync learner a full replica (appended last).
	Promote
	// MakePrimary moves a full replica to the front (a primary switch).
	MakePrimary
	// DropReplica removes a replica the target no longer names, once the
	// partition has its full target set (make before break).
	DropReplica
)

func (k StepKind) String() string {
	switch k {
	case DropDead:
		return "drop-dead"
	case Reseed:
		return "reseed"
	case AddLearner:
		return "add-learner"
	case Promote:
		return "promote"
	case MakePrimary:
		return "make-primary"
	case DropReplica:
		return "drop-replica"
	}
	return fmt.Sprintf("step(%d)", uint8(k))
}

// Step is one change to one partition.
type Step struct {
	Kind      StepKind
	Partition int
	Member    string
}

func (s Step) String() string { return fmt.Sprintf("%s p%d %s", s.Kind, s.Partition, s.Member) }

// Apply returns the table after steps, in epoch Epoch+1. Steps that no
// longer fit the table (a member already removed, a learner already
// promoted) are errors: the coordinator plans from the table it applies to.
func (t Table) Apply(steps []Step) (Table, error) {
	n := t.Clone()
	n.Epoch++
	for _, s := range steps {
		if s.Partition < 0 || s.Partition >= len(n.Partitions) {
			return t, fmt.Errorf("partition: %v: no such partition", s)
		}
		a := &n.Partitions[s.Partition]
		switch s.Kind {
		case DropDead:
			r, l := slices.Index(a.Replicas, s.Member), slices.Index(a.Learners, s.Member)
			if r < 0 && l < 0 {
				return t, fmt.Errorf("partition: %v: not a holder", s)
			}
			if r >= 0 {
				a.Replicas = slices.Delete(a.Replicas, r, r+1)
			}
			if l >= 0 {
				a.Learners = slices.Delete(a.Learners, l, l+1)
			}
		case Reseed:
			if len(a.Replicas) != 0 {
				return t, fmt.Errorf("partition: %v: partition still has replicas", s)
			}
			a.Replicas = []string{s.Member}
			a.Learners = slices.DeleteFunc(a.Learners, func(m string) bool { return m == s.Member })
		case AddLearner:
			if slices.Contains(a.Replicas, s.Member) || slices.Contains(a.Learners, s.Member) {
				return t, fmt.Errorf("partition: %v: already a holder", s)
			}
			a.Learners = append(a.Learners, s.Member)
		case Promote:
			l := slices.Index(a.Learners, s.Member)
			if l < 0 {
				return t, fmt.Errorf("partition: %v: not a learner", s)
			}
			a.Learners = slices.Delete(a.Learners, l, l+1)
			a.Replicas = append(a.Replicas, s.Member)
		case MakePrimary:
			r := slices.Index(a.Replicas, s.Member)
			if r < 0 {
				return t, fmt.Errorf("partition: %v: not a replica", s)
			}
			a.Replicas = slices.Delete(a.Replicas, r, r+1)
			a.Replicas = slices.Insert(a.Replicas, 0, s.Member)
		case DropReplica:
			r := slices.Index(a.Replicas, s.Member)
			if r < 0 {
				return t, fmt.Errorf("partition: %v: not a replica", s)
			}
			if len(a.Replicas) == 1 {
				return t, fmt.Errorf("partition: %v: would drop the last copy", s)
			}
			a.Replicas = slices.Delete(a.Replicas, r, r+1)
		default:
			return t, fmt.Errorf("partition: %v: unknown step", s)
		}
	}
	return n, nil
}
