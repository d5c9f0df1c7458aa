package record

import (
	"encoding/binary"
	"fmt"

	"github.com/sessiongrid/sessiongrid/session"
)

// Pairs is a packed list of distinct key/value pairs:
// n × (uvarint len(k), k, uvarint len(v), v). A Pairs value is never
// modified in place; the update methods return a new one. The zero value
// is empty.
type Pairs struct {
	b []byte
	n int
}

// Len returns the number of pairs.
func (p Pairs) Len() int { return p.n }

// readPairs reads a pair count and the pairs, checking every length.
func readPairs(b []byte) (p Pairs, rest []byte, err error) {
	n, w := binary.Uvarint(b)
	if w <= 0 {
		return p, nil, fmt.Errorf("%w: bad pair count", ErrMalformed)
	}
	b = b[w:]
	// Each pair takes at least two bytes (two zero lengths).
	if n > uint64(len(b))/2 {
		return p, nil, fmt.Errorf("%w: pair count %d past the end", ErrMalformed, n)
	}
	start := b
	for i := uint64(0); i < n; i++ {
		var k []byte
		if k, b, err = readBytes(b); err != nil {
			return p, nil, err
		}
		if len(k) == 0 {
			return p, nil, fmt.Errorf("%w: empty key", ErrMalformed)
		}
		if _, b, err = readBytes(b); err != nil {
			return p, nil, err
		}
	}
	used := len(start) - len(b)
	return Pairs{b: start[:used:used], n: int(n)}, b, nil
}

// next decodes the pair at p.b[off:] (already checked by readPairs or built
// by this file) and returns it with the offset of the next pair.
func (p Pairs) next(off int) (key, val []byte, end int) { return NextPair(p.b, off) }

// NextPair decodes the pair that starts at b[off:], in the packed form of
// Pairs, which the caller has checked or built, and returns it with the
// offset of the pair after it. val's capacity ends with it.
func NextPair(b []byte, off int) (key, val []byte, end int) {
	kl, w := binary.Uvarint(b[off:])
	off += w
	key = b[off : off+int(kl)]
	off += int(kl)
	vl, w := binary.Uvarint(b[off:])
	off += w
	val = b[off : off+int(vl) : off+int(vl)]
	return key, val, off + int(vl)
}

// Get returns the value of key (aliasing p) and whether it is present.
func (p Pairs) Get(key string) ([]byte, bool) {
	for off := 0; off < len(p.b); {
		k, v, end := p.next(off)
		if string(k) == key {
			return v, true
		}
		off = end
	}
	return nil, false
}

// Map returns the pairs as a map of copied values.
func (p Pairs) Map() map[string][]byte {
	m := make(map[string][]byte, p.n)
	for off := 0; off < len(p.b); {
		k, v, end := p.next(off)
		m[string(k)] = append(make([]byte, 0, len(v)), v...)
		off = end
	}
	return m
}

// Set returns p with every field written (a later duplicate key wins) and
// how many keys were not in p. The result aliases no field.
func (p Pairs) Set(fields []session.Field) (Pairs, int) {
	// last reports whether fields[i] is the last occurrence of its key.
	last := func(i int) bool {
		for j := i + 1; j < len(fields); j++ {
			if fields[j].Key == fields[i].Key {
				return false
			}
		}
		return true
	}
	replaced := func(k []byte) bool {
		for _, f := range fields {
			if f.Key == string(k) {
				return true
			}
		}
		return false
	}
	size, added := 0, 0
	for off := 0; off < len(p.b); {
		k, _, end := p.next(off)
		if !replaced(k) {
			size += end - off
		}
		off = end
	}
	for i, f := range fields {
		if !last(i) {
			continue
		}
		if _, ok := p.Get(f.Key); !ok {
			added++
		}
		size += PairLen(len(f.Key), len(f.Value))
	}
	out := Pairs{b: make([]byte, 0, size)}
	for off := 0; off < len(p.b); {
		k, _, end := p.next(off)
		if !replaced(k) {
			out.b = append(out.b, p.b[off:end]...)
			out.n++
		}
		off = end
	}
	for i, f := range fields {
		if last(i) {
			out.b = AppendPair(out.b, f.Key, f.Value)
			out.n++
		}
	}
	return out, added
}

// keepIf returns the pairs whose key keep accepts and how many it dropped.
func (p Pairs) keepIf(keep func(k []byte) bool) (Pairs, int) {
	var out Pairs
	dropped := 0
	for off := 0; off < len(p.b); {
		k, _, end := p.next(off)
		if keep(k) {
			out.b = append(out.b, p.b[off:end]...)
			out.n++
		} else {
			dropped++
		}
		off = end
	}
	if dropped == 0 {
		return p, 0
	}
	return out, dropped
}

// Delete returns p without keys and how many of them were present.
func (p Pairs) Delete(keys ...string) (Pairs, int) {
	return p.keepIf(func(k []byte) bool {
		for _, d := range keys {
			if d == string(k) {
				return false
			}
		}
		return true
	})
}

// Retain returns p with only the keys named in keep and how many it
// dropped.
func (p Pairs) Retain(keep []string) (Pairs, int) {
	return p.keepIf(func(k []byte) bool {
		for _, r := range keep {
			if r == string(k) {
				return true
			}
		}
		return false
	})
}

// PairLen returns the packed length of a pair whose key and value have
// lengths k and v.
func PairLen(k, v int) int {
	return uvarintLen(uint64(k)) + k + uvarintLen(uint64(v)) + v
}

// AppendPair appends the pair k, v to b in the packed form of Pairs.
func AppendPair(b []byte, k string, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(k)))
	b = append(b, k...)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}
