package server

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
)

// Key versions for WATCH.
//
// A node numbers the writes of the keys it owns: every write of a key gives
// it the next number of the node's counter. WATCH reads a key's number,
// EXEC compares it under the gate: a different number means the key was
// written since (by any client of any member, by a script or by a
// transaction). A key that existed at WATCH and is gone at EXEC was deleted
// or expired. The numbers are kept by the key's 64-bit hash (two keys with
// one hash share a number: a write of one aborts a watch of the other,
// never the reverse) in a bounded table: when a shard fills up it is
// emptied and its floor raised to the highest number it held, so a
// forgotten key reads as the floor — never lower than its real number, so
// a change is never missed (at worst a transaction is aborted that Redis
// would have run, and the client retries). At most 64 × 8192 hashes are
// kept: about 20 MiB.
//
// Numbering starts at the node's first WATCH: a node whose clients never
// watch pays nothing for it.

// WriteWatcher is an optional capability of a cluster Backend whose keys
// are also written without passing through this Server: by other members'
// clients and by embedded peers. WATCH must see those writes.
type WriteWatcher interface {
	// WatchWrites makes the backend call written(key) after every write of a
	// key this member owns, whoever made it, before the write is
	// acknowledged; written does not block and does not keep key's memory
	// beyond the call. The backend runs the operations other members send
	// it inside gate (which returns once run has), so that they wait for a
	// transaction or a script running on this member. Called once, before
	// the server serves.
	WatchWrites(written func(key string), gate func(run func()))
	// Generation returns a number that changes whenever key's partition
	// stops or starts being led by this member: key numbers read under
	// another generation are void (writes made elsewhere meanwhile were not
	// numbered here). Called concurrently.
	Generation(key string) uint64
}

const (
	versionShards     = 64
	versionShardLimit = 1 << 13 // hashes per shard before it is emptied
)

type versionShard struct {
	mu    sync.Mutex        // guards m and floor
	m     map[uint64]uint64 // key's hash -> number of its last write
	floor uint64            // the number of every key not in m
	_     [40]byte
}

// keyVersions numbers the writes of keys (see above). Each Server owns
// one.
type keyVersions struct {
	enabled atomic.Bool
	counter atomic.Uint64
	// incarnation tells this server's numbers from another's (a member
	// restarted, or another member).
	incarnation uint64
	shards      [versionShards]versionShard
}

func newKeyVersions() *keyVersions {
	var b [8]byte
	rand.Read(b[:])
	v := &keyVersions{incarnation: binary.LittleEndian.Uint64(b[:]) | 1}
	return v
}

func (v *keyVersions) shard(key string) (*versionShard, uint64) {
	h := xxhash.Sum64String(key)
	return &v.shards[h&(versionShards-1)], h
}

// enable starts numbering (the first WATCH).
func (v *keyVersions) enable() {
	if !v.enabled.Load() {
		v.enabled.Store(true)
	}
}

// written records a write of key; called after the write is applied.
func (v *keyVersions) written(key string) {
	if !v.enabled.Load() {
		return
	}
	n := v.counter.Add(1)
	sh, h := v.shard(key)
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = make(map[uint64]uint64)
	}
	if _, ok := sh.m[h]; !ok && len(sh.m) >= versionShardLimit {
		for _, x := range sh.m {
			sh.floor = max(sh.floor, x)
		}
		clear(sh.m)
	}
	sh.m[h] = max(sh.m[h], n)
	sh.mu.Unlock()
}

// version returns the number of key's last write (or its shard's floor).
func (v *keyVersions) version(key string) uint64 {
	sh, h := v.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if n, ok := sh.m[h]; ok {
		return n
	}
	return sh.floor
}
