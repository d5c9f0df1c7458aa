package cache

import (
	"hash/maphash"
	"sync"
)

// index is the set of session ids in the cache, expired ones included until
// they are reclaimed. otter skips expired entries when it iterates, and its
// timer wheel reclaims them only at its own resolution (about a second), so
// Sweep walks this set to reclaim every expired session at once.
//
// It is kept under otter's bucket lock of each id: add when a Compute
// creates a session, remove when OnAtomicDeletion reports the removal of
// the same incarnation (gen). Creation over an expired entry adds the new
// gen before otter reports the old one's removal, which then leaves it.
type index struct {
	seed   maphash.Seed
	shards [64]indexShard
}

type indexShard struct {
	mu  sync.Mutex // guards ids
	ids map[string]uint64
	_   [40]byte // keep shards on separate cache lines
}

func newIndex() *index {
	x := &index{seed: maphash.MakeSeed()}
	for i := range x.shards {
		x.shards[i].ids = make(map[string]uint64)
	}
	return x
}

func (x *index) shard(id string) *indexShard {
	return &x.shards[maphash.String(x.seed, id)%uint64(len(x.shards))]
}

func (x *index) add(id string, gen uint64) {
	sh := x.shard(id)
	sh.mu.Lock()
	sh.ids[id] = gen
	sh.mu.Unlock()
}

// remove forgets id if its current incarnation is gen.
func (x *index) remove(id string, gen uint64) {
	sh := x.shard(id)
	sh.mu.Lock()
	if g, ok := sh.ids[id]; ok && g == gen {
		delete(sh.ids, id)
	}
	sh.mu.Unlock()
}

// snapshot returns the ids of one shard.
func (x *index) snapshot(i int) []string {
	sh := &x.shards[i]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	ids := make([]string, 0, len(sh.ids))
	for id := range sh.ids {
		ids = append(ids, id)
	}
	return ids
}

func (x *index) len() int {
	n := 0
	for i := range x.shards {
		sh := &x.shards[i]
		sh.mu.Lock()
		n += len(sh.ids)
		sh.mu.Unlock()
	}
	return n
}
