package partition

import (
	"errors"
	"fmt"
	"sort"

	"github.com/buraksezer/consistent"
	"github.com/cespare/xxhash/v2"
)

// Hasher hashes ring keys. Tests inject their own.
type Hasher interface{ Sum64([]byte) uint64 }

type xxHasher struct{}

func (xxHasher) Sum64(b []byte) uint64 { return xxhash.Sum64(b) }

// RingConfig configures a Ring.
type RingConfig struct {
	// Count is the number of partitions; DefaultCount when 0.
	Count int
	// Backups is the number of backups per partition (so Backups+1 replicas
	// when enough members exist).
	Backups int
	// Load is the bounded-load factor; 1.25 when 0.
	Load float64
	// VirtualNodes is the number of ring points per member; 20 when 0.
	VirtualNodes int
	// Hasher hashes ring keys; xxhash when nil.
	Hasher Hasher
}

type member string

func (m member) String() string { return string(m) }

// Ring is the target assignment for one member list. It is immutable.
type Ring struct {
	count   int
	targets [][]string
}

// ErrNoMembers is returned by NewRing for an empty member list.
var ErrNoMembers = errors.New("partition: no members")

// NewRing computes the target replicas of every partition for members
// (their ids). The result depends only on the config and the set of ids,
// never on their order, so every node computes the same ring.
func NewRing(cfg RingConfig, members []string) (r *Ring, err error) {
	if cfg.Count == 0 {
		cfg.Count = DefaultCount
	}
	if cfg.Load == 0 {
		cfg.Load = 1.25
	}
	if cfg.VirtualNodes == 0 {
		cfg.VirtualNodes = 20
	}
	if cfg.Hasher == nil {
		cfg.Hasher = xxHasher{}
	}
	switch {
	case cfg.Count < 1:
		return nil, fmt.Errorf("partition: count must be positive, got %d", cfg.Count)
	case cfg.Backups < 0:
		return nil, fmt.Errorf("partition: backups must not be negative, got %d", cfg.Backups)
	case cfg.Load < 1:
		return nil, fmt.Errorf("partition: load must be at least 1, got %v", cfg.Load)
	}
	ids := dedupSorted(members)
	if len(ids) == 0 {
		return nil, ErrNoMembers
	}
	// consistent panics when it cannot place a partition; turn that into an
	// error rather than bring a node down.
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("partition: ring: %v", p)
		}
	}()
	ms := make([]consistent.Member, len(ids))
	for i, id := range ids {
		ms[i] = member(id)
	}
	c := consistent.New(ms, consistent.Config{
		Hasher:            cfg.Hasher,
		PartitionCount:    cfg.Count,
		ReplicationFactor: cfg.VirtualNodes,
		Load:              cfg.Load,
	})
	n := min(cfg.Backups+1, len(ids))
	r = &Ring{count: cfg.Count, targets: make([][]string, cfg.Count)}
	for p := 0; p < cfg.Count; p++ {
		owner := c.GetPartitionOwner(p)
		if owner == nil {
			return nil, fmt.Errorf("partition: no owner for partition %d", p)
		}
		r.targets[p] = append([]string{owner.String()}, backups(cfg.Hasher, p, owner.String(), ids, n-1)...)
	}
	return r, nil
}

// backups picks n members other than primary for partition p by
// rendezvous hashing: each member scores hash(p, member) and the highest
// win. consistent's GetClosestN would give every partition of one primary
// the same backups (the next members by name hash), so one member's death
// would double the load of a single other member; rendezvous spreads a
// member's backups over all the others, and moves few when members change.
func backups(h Hasher, p int, primary string, ids []string, n int) []string {
	if n <= 0 {
		return nil
	}
	type scored struct {
		id    string
		score uint64
	}
	var c []scored
	buf := make([]byte, 0, 64)
	for _, id := range ids {
		if id == primary {
			continue
		}
		buf = append(buf[:0], id...)
		buf = append(buf, 0, byte(p), byte(p>>8), byte(p>>16), byte(p>>24))
		c = append(c, scored{id, h.Sum64(buf)})
	}
	sort.Slice(c, func(i, j int) bool {
		if c[i].score != c[j].score {
			return c[i].score > c[j].score
		}
		return c[i].id < c[j].id
	})
	out := make([]string, 0, n)
	for i := 0; i < n && i < len(c); i++ {
		out = append(out, c[i].id)
	}
	return out
}

// Count returns the number of partitions.
func (r *Ring) Count() int { return r.count }

// Target returns the target replicas of partition p, primary first. The
// caller must not modify the slice.
func (r *Ring) Target(p int) []string { return r.targets[p] }

func dedupSorted(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	j := 0
	for i, s := range out {
		if s == "" || (i > 0 && s == out[i-1]) {
			continue
		}
		out[j] = s
		j++
	}
	return out[:j]
}
