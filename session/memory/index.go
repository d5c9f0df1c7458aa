package memory

import "hash/maphash"

// index is a shard's table of its keys: open addressing with linear probing
// over one slice of entry pointers, each key's id read from its entry's
// block, and one tag byte per slot (seven bits of the hash) so that a probe
// rarely reads an entry that is not the one looked for. A slot costs 9
// bytes; a map[string]*entry slot costs 24 and more of them sit empty
// (measured at a million sessions: about 56 bytes per key for the map,
// 19 for the index). The zero value is empty. Callers hold the shard lock
// (read lock for get and each).
type index struct {
	seed  maphash.Seed // its own: the shard's keys share the low bits of the store's hash
	slots []*entry
	tags  []uint8 // 0: slot empty; else tagOf(hash of the slot's id)
	n     int
}

const minIndexSlots = 8

func newIndex() index { return index{seed: maphash.MakeSeed()} }

func (x *index) hash(id string) uint64 { return maphash.String(x.seed, id) }

func tagOf(h uint64) uint8 { return uint8(h>>57) | 0x80 }

func (x *index) len() int { return x.n }

// find returns the slot of id, -1 if absent.
func (x *index) find(id string) int {
	if x.n == 0 {
		return -1
	}
	h := x.hash(id)
	t, mask := tagOf(h), len(x.slots)-1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		switch x.tags[i] {
		case 0:
			return -1
		case t:
			if x.slots[i].id() == id {
				return i
			}
		}
	}
}

// get returns the entry of id, nil if absent.
func (x *index) get(id string) *entry {
	if i := x.find(id); i >= 0 {
		return x.slots[i]
	}
	return nil
}

// add inserts e, whose id is not in the index.
func (x *index) add(e *entry) {
	if (x.n+1)*4 > len(x.slots)*3 {
		x.resize(max(minIndexSlots, 2*len(x.slots)))
	}
	x.place(e, x.hash(e.id()))
	x.n++
}

// place puts e in the first free slot from its hash's.
func (x *index) place(e *entry, h uint64) {
	mask := len(x.slots) - 1
	i := int(h) & mask
	for x.tags[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i], x.tags[i] = e, tagOf(h)
}

// resize moves the entries to a table of size slots, a power of two.
func (x *index) resize(size int) {
	old := x.slots
	x.slots, x.tags = make([]*entry, size), make([]uint8, size)
	for _, e := range old {
		if e != nil {
			x.place(e, x.hash(e.id()))
		}
	}
}

// remove deletes id's entry and reports whether it was there.
func (x *index) remove(id string) bool {
	i := x.find(id)
	if i < 0 {
		return false
	}
	x.removeAt(i)
	return true
}

// removeAt empties slot i, moving back the entries after it that probed
// past it (no tombstones: a lookup stops at the first empty slot).
func (x *index) removeAt(i int) {
	mask := len(x.slots) - 1
	for j := (i + 1) & mask; x.tags[j] != 0; j = (j + 1) & mask {
		home := int(x.hash(x.slots[j].id())) & mask
		if (j-home)&mask >= (j-i)&mask { // the hole lies on j's probe path
			x.slots[i], x.tags[i] = x.slots[j], x.tags[j]
			i = j
		}
	}
	x.slots[i], x.tags[i] = nil, 0
	x.n--
}

// each calls fn with every entry. fn may remove the entry it is given (and
// no other): an entry moved back by that removal into a slot already passed
// is then visited again, so fn must tolerate seeing an entry twice.
func (x *index) each(fn func(e *entry)) {
	for i := 0; i < len(x.slots); {
		e := x.slots[i]
		if e == nil {
			i++
			continue
		}
		fn(e)
		if x.slots[i] == e {
			i++
		}
	}
}

// compact shrinks a table left mostly empty (after a sweep or many
// deletes) so that its memory follows the keys. Not during each.
func (x *index) compact() {
	if len(x.slots) > minIndexSlots && x.n*8 < len(x.slots) {
		size := minIndexSlots
		for size*3 < x.n*4*2 { // half full at most after the move
			size *= 2
		}
		x.resize(size)
	}
}
