package memory

import (
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// bigThreshold is the field count past which a set moves from the packed
// form to a map.
const bigThreshold = 128

// fields is a set of key/value pairs: packed into one byte slice while
// small, a map once large. The zero value is an empty set. Callers hold the
// shard lock; a packed slice is never modified in place once built, so a
// value slice taken from it stays valid until the set is rebuilt.
type fields struct {
	packed []byte            // pairs in record.Pairs form: uvarint(len k) k uvarint(len v) v
	big    map[string][]byte // non-nil once the set is large
	n      int32             // number of pairs
	// bigBytes is the bytes of keys and values in big, kept as it changes:
	// size is asked on every write, and summing a large map there made each
	// write to a large hash cost time in proportion to its size.
	bigBytes int
}

func (f *fields) len() int { return int(f.n) }

// size returns the bytes of keys and values held.
func (f *fields) size() int {
	if f.big == nil {
		return len(f.packed)
	}
	return f.bigBytes
}

// putBig sets key in the map form, keeping bigBytes, and reports whether
// the key is new.
func (f *fields) putBig(key string, val []byte) bool {
	old, ok := f.big[key]
	if ok {
		f.bigBytes -= len(key) + len(old)
	}
	f.big[key] = clone(val)
	f.bigBytes += len(key) + len(val)
	f.n = int32(len(f.big))
	return !ok
}

// dropBig deletes key from the map form, keeping bigBytes.
func (f *fields) dropBig(key string) bool {
	old, ok := f.big[key]
	if ok {
		f.bigBytes -= len(key) + len(old)
		delete(f.big, key)
		f.n = int32(len(f.big))
	}
	return ok
}

// next decodes the record at b[off:] and returns key, value and the offset
// of the record after it.
func next(b []byte, off int) (key, val []byte, end int) { return record.NextPair(b, off) }

func (f *fields) get(key string) ([]byte, bool) {
	if f.big != nil {
		v, ok := f.big[key]
		return v, ok
	}
	for off := 0; off < len(f.packed); {
		k, v, end := next(f.packed, off)
		if string(k) == key {
			return v, true
		}
		off = end
	}
	return nil, false
}

// each calls fn for every pair; fn must not keep k or v.
func (f *fields) each(fn func(k string, v []byte)) {
	if f.big != nil {
		for k, v := range f.big {
			fn(k, v)
		}
		return
	}
	for off := 0; off < len(f.packed); {
		k, v, end := next(f.packed, off)
		fn(string(k), v)
		off = end
	}
}

// set writes every pair (a later duplicate key wins) and returns how many
// keys were new. The values are copied.
func (f *fields) set(kvs []session.Field) (added int) {
	if f.big == nil && len(kvs) > 1 {
		f.reserve(kvs)
	}
	// One pair at a time, in place where the packed slice has room: under
	// the shard lock this is as atomic as a rebuild, and an overwrite of a
	// session with values of the same sizes allocates nothing (no garbage
	// for the GC, so memory stays flat under rewrites).
	for _, kv := range kvs {
		if f.big != nil {
			if f.putBig(kv.Key, kv.Value) {
				added++
			}
			continue
		}
		added += f.set1(kv.Key, kv.Value)
	}
	return added
}

// reserve makes room, in one allocation of the exact size, for the packed
// slice after kvs are written, so that a multi-field write allocates at
// most once.
func (f *fields) reserve(kvs []session.Field) {
	final := len(f.packed)
	for i, kv := range kvs {
		last := true
		for _, later := range kvs[i+1:] {
			if later.Key == kv.Key {
				last = false
				break
			}
		}
		if !last {
			continue
		}
		final += record.PairLen(len(kv.Key), len(kv.Value))
		if old, ok := f.get(kv.Key); ok {
			final -= record.PairLen(len(kv.Key), len(old))
		}
	}
	if final > cap(f.packed) {
		nb := make([]byte, len(f.packed), final)
		copy(nb, f.packed)
		f.packed = nb
	}
}

// set1 writes one pair, in place when the packed slice has the capacity
// (the hot path of the chatbot workload: one key overwritten at a time).
// It returns 1 when the key is new.
func (f *fields) set1(key string, val []byte) int {
	for off := 0; off < len(f.packed); {
		k, v, end := next(f.packed, off)
		if string(k) != key {
			off = end
			continue
		}
		if len(v) == len(val) { // same length: overwrite the value bytes
			copy(f.packed[end-len(v):end], val)
			return 0
		}
		newRec := record.PairLen(len(key), len(val))
		size := len(f.packed) - (end - off) + newRec
		if size <= cap(f.packed) {
			// move the tail (memmove handles the overlap), then write the record
			b := f.packed[:max(size, len(f.packed))]
			copy(b[off+newRec:], f.packed[end:])
			record.AppendPair(b[off:off], key, val)
			f.packed = b[:size]
			return 0
		}
		nb := make([]byte, 0, grow(size))
		nb = append(nb, f.packed[:off]...)
		nb = record.AppendPair(nb, key, val)
		nb = append(nb, f.packed[end:]...)
		f.packed = nb
		return 0
	}
	if f.n+1 > bigThreshold {
		f.toBig()
		f.putBig(key, val)
		return 1
	}
	size := len(f.packed) + record.PairLen(len(key), len(val))
	if size > cap(f.packed) {
		nb := make([]byte, 0, grow(size))
		f.packed = append(nb, f.packed...)
	}
	f.packed = record.AppendPair(f.packed, key, val)
	f.n++
	return 1
}

// grow returns the capacity for a packed slice of size bytes: 1/8 slack so
// that a few growing values do not reallocate each time, little enough to
// keep memory close to the payload.
func grow(size int) int { return size + size/8 }

func (f *fields) toBig() {
	m := make(map[string][]byte, f.n+8)
	n := 0
	for off := 0; off < len(f.packed); {
		k, v, end := next(f.packed, off)
		m[string(k)] = append(make([]byte, 0, len(v)), v...)
		n += len(k) + len(v)
		off = end
	}
	f.big, f.packed, f.bigBytes = m, nil, n
}

// del removes the keys and returns how many existed.
func (f *fields) del(keys []string) (removed int) {
	if f.big != nil {
		for _, k := range keys {
			if f.dropBig(k) {
				removed++
			}
		}
		return removed
	}
	return f.keepIf(func(k []byte) bool {
		for _, d := range keys {
			if d == string(k) {
				return false
			}
		}
		return true
	})
}

// retain removes every key not named exactly in keep and returns how many
// it removed.
func (f *fields) retain(keep []string) (removed int) {
	in := func(k []byte) bool {
		for _, r := range keep {
			if r == string(k) {
				return true
			}
		}
		return false
	}
	if f.big != nil {
		for k := range f.big {
			if !in([]byte(k)) {
				f.dropBig(k)
				removed++
			}
		}
		return removed
	}
	return f.keepIf(in)
}

// keepIf rebuilds the packed form with the records keep accepts.
func (f *fields) keepIf(keep func(k []byte) bool) (removed int) {
	size := 0
	for off := 0; off < len(f.packed); {
		k, _, end := next(f.packed, off)
		if keep(k) {
			size += end - off
		} else {
			removed++
		}
		off = end
	}
	if removed == 0 {
		return 0
	}
	var nb []byte
	if size > 0 {
		nb = make([]byte, 0, size)
		for off := 0; off < len(f.packed); {
			k, _, end := next(f.packed, off)
			if keep(k) {
				nb = append(nb, f.packed[off:end]...)
			}
			off = end
		}
	}
	f.packed = nb
	f.n -= int32(removed)
	return removed
}

// copyMap returns the pairs as a new map with copied values.
func (f *fields) copyMap() map[string][]byte {
	m := make(map[string][]byte, f.n)
	f.each(func(k string, v []byte) { m[k] = clone(v) })
	return m
}

func clone(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}
