package memory

import (
	"encoding/binary"
	"slices"
	"strings"
	"unsafe"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// The layout of a key in memory.
//
// A key is one small entry (48 bytes: the idle clock, the block's address,
// length and capacity, and the offsets below) and one byte block holding
// everything else:
//
//	uvarint(len(id)) id | data pairs | props pairs     (a session)
//	uvarint(len(id)) id | value                         (a string)
//
// The pairs are in record.Pairs form, uvarint(len k) k uvarint(len v) v,
// scanned linearly (like Redis's listpack): sessions are small, and a scan
// of a few hundred bytes costs less than a map lookup's cache misses. The
// shard's index (index.go) reads the id from the block, so a session costs
// two allocations (entry and block) plus its index slot, and the id is
// stored once. The id bytes are never written once the block is made (the
// block is replaced as a whole when it must grow), so strings that alias
// them stay valid and unchanged.
//
// A section past bigThreshold pairs, or past bigBytes bytes, moves to a map
// (bigSet), kept in the entry's extras: a large hash is then written in
// constant time, not by moving its tail.

const (
	// bigThreshold is the pair count past which a section moves from the
	// packed form to a map.
	bigThreshold = 128
	// bigBytes is the packed size past which a section moves to a map; it
	// also keeps the offsets of the block within uint32.
	bigBytes = 1 << 24
)

// bigSet is a section in the map form.
type bigSet struct {
	m map[string][]byte
	// bytes is the bytes of keys and values in m, kept as it changes: size
	// is asked on every write, and summing a large map there made each
	// write to a large hash cost time in proportion to its size.
	bytes int
}

// extras is what few keys need, kept out of the entry so that the entry
// stays in the 48-byte size class: the sections in the map form and the
// absolute deadline.
type extras struct {
	data, props bigSet
	deadline    int64 // absolute deadline; 0 = none
}

// block returns the key's byte block.
func (e *entry) block() []byte { return unsafe.Slice(e.p, e.c)[:e.n] }

// setBlock makes b the key's byte block.
func (e *entry) setBlock(b []byte) {
	e.p, e.n, e.c = unsafe.SliceData(b), uint32(len(b)), uint32(cap(b))
}

// deadline returns the absolute deadline, 0 if none.
func (e *entry) deadline() int64 {
	if e.ext == nil {
		return 0
	}
	return e.ext.deadline
}

func (e *entry) setDeadline(at int64) {
	if e.ext == nil {
		if at == 0 {
			return
		}
		e.ext = &extras{}
	}
	e.ext.deadline = at
	e.dropExtras()
}

// dropExtras drops extras that hold nothing.
func (e *entry) dropExtras() {
	if x := e.ext; x != nil && x.deadline == 0 && x.data.m == nil && x.props.m == nil {
		e.ext = nil
	}
}

// newBlock returns a block for id with room for extra more bytes.
func newBlock(id string, extra int) []byte {
	n := uvarintLen(len(id)) + len(id)
	b := alloc(n + extra)[:0]
	b = binary.AppendUvarint(b, uint64(len(id)))
	return append(b, id...)
}

// alloc returns a slice of n bytes whose capacity is the whole allocation:
// Go rounds every allocation up to a size class, and the rounding is room
// for an in-place write later, at no cost.
func alloc(n int) []byte { return slices.Grow([]byte(nil), n)[:n] }

func uvarintLen(n int) int {
	w := 1
	for ; n >= 0x80; n >>= 7 {
		w++
	}
	return w
}

// id returns the key's id, aliasing the block.
func (e *entry) id() string {
	b := e.block()
	n, w := binary.Uvarint(b)
	return unsafe.String(&b[w], int(n))
}

// dataAt returns the offset of the data pairs (or the string's value).
func (e *entry) dataAt() int {
	n, w := binary.Uvarint(e.block())
	return w + int(n)
}

// value returns the value of a string key, aliasing the block.
func (e *entry) value() []byte { return e.block()[e.dataAt():] }

// setValue sets the value of a string key.
func (e *entry) setValue(v []byte) {
	at := e.dataAt()
	copy(e.resize(at, int(e.n), len(v)), v)
	e.propsAt = e.n
}

// resize makes block[off:end] n bytes long, moving the bytes after it, and
// returns the n-byte window at off for the caller to fill. It writes in
// place when the block has the capacity, else it moves to a new block of
// the exact size (rounded to the allocator's size class); a block that a
// shrink leaves more than half empty is moved too, so that memory follows
// the payload.
func (e *entry) resize(off, end, n int) []byte {
	cur := e.block()
	size := len(cur) - (end - off) + n
	if size <= cap(cur) && (size >= len(cur) || size >= cap(cur)/2 || cap(cur) <= 64) {
		b := cur[:max(size, len(cur))]
		copy(b[off+n:], cur[end:]) // memmove: the ranges may overlap
		e.setBlock(b[:size])
		return b[off : off+n]
	}
	nb := alloc(size)
	copy(nb, cur[:off])
	copy(nb[off+n:], cur[end:])
	e.setBlock(nb)
	return nb[off : off+n]
}

// section is one of an entry's two sets of pairs: data or props. The zero
// value of both is an empty set. Callers hold the shard lock; a value slice
// taken from a section is valid until the next write of the entry.
type section struct {
	e     *entry
	props bool
}

func (e *entry) section(sec record.Section) section {
	return section{e: e, props: sec == record.PropsSection}
}

func (e *entry) dataSec() section  { return section{e: e} }
func (e *entry) propsSec() section { return section{e: e, props: true} }

// bounds returns where the section's packed pairs lie in the block.
func (s section) bounds() (off, end int) {
	if s.props {
		return int(s.e.propsAt), len(s.e.block())
	}
	return s.e.dataAt(), int(s.e.propsAt)
}

// big returns the section's map form, nil while it is packed.
func (s section) big() *bigSet {
	if s.e.ext == nil {
		return nil
	}
	b := &s.e.ext.data
	if s.props {
		b = &s.e.ext.props
	}
	if b.m == nil {
		return nil
	}
	return b
}

// count returns the packed pair counter of the section.
func (s section) count() *uint8 {
	if s.props {
		return &s.e.nprops
	}
	return &s.e.ndata
}

func (s section) len() int {
	if b := s.big(); b != nil {
		return len(b.m)
	}
	return int(*s.count())
}

// size returns the bytes of the section's pairs: packed with their length
// prefixes, or the keys and values of the map form.
func (s section) size() int {
	if b := s.big(); b != nil {
		return b.bytes
	}
	off, end := s.bounds()
	return end - off
}

// splice replaces b[off:end] of the section with n bytes and returns the
// window to fill, keeping the props offset.
func (s section) splice(off, end, n int) []byte {
	w := s.e.resize(off, end, n)
	if !s.props {
		s.e.propsAt = uint32(int(s.e.propsAt) + n - (end - off))
	}
	return w
}

func (s section) get(key string) ([]byte, bool) {
	if b := s.big(); b != nil {
		v, ok := b.m[key]
		return v, ok
	}
	off, end := s.bounds()
	for off < end {
		k, v, next := record.NextPair(s.e.block(), off)
		if string(k) == key {
			return v, true
		}
		off = next
	}
	return nil, false
}

// each calls fn for every pair; fn must not keep k or v.
func (s section) each(fn func(k string, v []byte)) {
	if b := s.big(); b != nil {
		for k, v := range b.m {
			fn(k, v)
		}
		return
	}
	off, end := s.bounds()
	for off < end {
		k, v, next := record.NextPair(s.e.block(), off)
		fn(string(k), v)
		off = next
	}
}

// set writes every pair (a later duplicate key wins) and returns how many
// keys were new. The values are copied.
func (s section) set(kvs []session.Field) (added int) {
	if s.big() == nil && len(kvs) > 1 {
		s.reserve(kvs)
	}
	// One pair at a time, in place where the block has room: under the
	// shard lock this is as atomic as a rebuild, and an overwrite of a
	// session with values of the same sizes allocates nothing (no garbage
	// for the GC, so memory stays flat under rewrites).
	for _, kv := range kvs {
		if b := s.big(); b != nil {
			if b.put(kv.Key, kv.Value) {
				added++
			}
			continue
		}
		added += s.set1(kv.Key, kv.Value)
	}
	return added
}

// reserve makes room, in one allocation, for the block after kvs are
// written, so that a multi-field write allocates at most once.
func (s section) reserve(kvs []session.Field) {
	final := len(s.e.block())
	for i, kv := range kvs {
		if slices.ContainsFunc(kvs[i+1:], func(later session.Field) bool { return later.Key == kv.Key }) {
			continue
		}
		final += record.PairLen(len(kv.Key), len(kv.Value))
		if old, ok := s.get(kv.Key); ok {
			final -= record.PairLen(len(kv.Key), len(old))
		}
	}
	if b := s.e.block(); final > cap(b) {
		nb := alloc(final)[:len(b)]
		copy(nb, b)
		s.e.setBlock(nb)
	}
}

// set1 writes one pair, in place when the block has the capacity (the hot
// path of the chatbot workload: one key overwritten at a time). It returns
// 1 when the key is new.
func (s section) set1(key string, val []byte) int {
	off, end := s.bounds()
	rec := record.PairLen(len(key), len(val))
	for at := off; at < end; {
		k, v, next := record.NextPair(s.e.block(), at)
		if string(k) != key {
			at = next
			continue
		}
		if len(v) == len(val) { // same length: overwrite the value bytes
			copy(s.e.block()[next-len(v):next], val)
			return 0
		}
		if end-off-(next-at)+rec > bigBytes {
			s.toBig()
			s.big().put(key, val)
			return 0
		}
		record.AppendPair(s.splice(at, next, rec)[:0], key, val)
		return 0
	}
	if *s.count() >= bigThreshold || end-off+rec > bigBytes {
		s.toBig()
		s.big().put(key, val)
		return 1
	}
	record.AppendPair(s.splice(end, end, rec)[:0], key, val)
	*s.count()++
	return 1
}

// toBig moves the section's pairs from the block to a map.
func (s section) toBig() {
	off, end := s.bounds()
	m := make(map[string][]byte, int(*s.count())+8)
	n := 0
	for at := off; at < end; {
		k, v, next := record.NextPair(s.e.block(), at)
		m[string(k)] = clone(v)
		n += len(k) + len(v)
		at = next
	}
	s.splice(off, end, 0)
	*s.count() = 0
	if s.e.ext == nil {
		s.e.ext = &extras{}
	}
	b := &s.e.ext.data
	if s.props {
		b = &s.e.ext.props
	}
	*b = bigSet{m: m, bytes: n}
}

// put sets key, keeping bytes, and reports whether the key is new. A value
// of the same length is overwritten in place; otherwise the map stores a
// copy of key (an assignment replaces the stored key with the one given,
// and the caller's may be borrowed: see Store.BorrowsStrings).
func (b *bigSet) put(key string, val []byte) bool {
	old, ok := b.m[key]
	if ok && len(old) == len(val) {
		copy(old, val)
		return false
	}
	if ok {
		b.bytes -= len(key) + len(old)
	}
	b.m[strings.Clone(key)] = clone(val)
	b.bytes += len(key) + len(val)
	return !ok
}

// drop deletes key, keeping bytes, and reports whether it existed.
func (b *bigSet) drop(key string) bool {
	old, ok := b.m[key]
	if ok {
		b.bytes -= len(key) + len(old)
		delete(b.m, key)
	}
	return ok
}

// del removes the keys and returns how many existed.
func (s section) del(keys []string) (removed int) {
	if b := s.big(); b != nil {
		for _, k := range keys {
			if b.drop(k) {
				removed++
			}
		}
		return removed
	}
	return s.keepIf(func(k []byte) bool {
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
func (s section) retain(keep []string) (removed int) {
	in := func(k []byte) bool {
		for _, r := range keep {
			if r == string(k) {
				return true
			}
		}
		return false
	}
	if b := s.big(); b != nil {
		for k := range b.m {
			if !in([]byte(k)) {
				b.drop(k)
				removed++
			}
		}
		return removed
	}
	return s.keepIf(in)
}

// keepIf removes, in place, the packed pairs keep rejects.
func (s section) keepIf(keep func(k []byte) bool) (removed int) {
	off, end := s.bounds()
	for at := off; at < end; {
		k, _, next := record.NextPair(s.e.block(), at)
		if keep(k) {
			at = next
			continue
		}
		s.splice(at, next, 0)
		end -= next - at
		removed++
	}
	*s.count() -= uint8(removed)
	return removed
}

// clear empties the section.
func (s section) clear() {
	if b := s.big(); b != nil {
		*b = bigSet{}
		s.e.dropExtras()
		return
	}
	off, end := s.bounds()
	s.splice(off, end, 0)
	*s.count() = 0
}

// copyMap returns the pairs as a new map with copied values.
func (s section) copyMap() map[string][]byte {
	m := make(map[string][]byte, s.len())
	s.each(func(k string, v []byte) { m[k] = clone(v) })
	return m
}

func clone(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}
