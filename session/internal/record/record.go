package record

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/sessiongrid/sessiongrid/session/internal/expiry"
)

// Record format, version 1 (all integers little endian):
//
//	0   4  magic "sgr" + version byte 0x01
//	4   1  kind: 1 session, 2 global
//	5   3  reserved, zero
//	8   8  touched: last touch, Unix nanoseconds
//	16  8  idle: idle timeout in nanoseconds, 0 = never idles out
//	24  8  deadline: absolute deadline, Unix nanoseconds, 0 = none
//	32  .. uvarint len(id), id (the session id, or the global's key)
//	       session: uvarint n, n × (uvarint len(k), k, uvarint len(v), v)  data
//	                uvarint n, n × (uvarint len(k), k, uvarint len(v), v)  props
//	       global:  uvarint len(v), v
//	end-4  4  CRC-32C (Castagnoli) of every byte before it
//
// The header is fixed so that a sweep can read the expiry of a record from
// its first HeaderLen bytes. The full id is inside the record: names and
// keys derived from a hash of the id are never trusted alone.
const (
	// HeaderLen is the length of the fixed header that starts every
	// record, all that DecodeHeader reads.
	HeaderLen = 32

	trailerLen    = 4
	recordVersion = 1
)

var recordMagic = [4]byte{'s', 'g', 'r', recordVersion}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Kind says what a record holds.
type Kind byte

// The kinds of record.
const (
	// KindSession is a session: id, data, props and expiry.
	KindSession Kind = 1
	// KindGlobal is a global: key and value. Globals never expire.
	KindGlobal Kind = 2
)

// Header is the fixed-size prefix of a record: its kind and expiry.
type Header struct {
	Kind Kind
	// Touched is the last touch, Unix nanoseconds.
	Touched int64
	// Idle is the idle timeout in nanoseconds; 0 never idles out.
	Idle int64
	// Deadline is an absolute deadline, Unix nanoseconds; 0 is none.
	Deadline int64
}

// ExpiresAt returns when the record expires (Unix nanoseconds), 0 if never:
// the earlier of Touched+Idle (when Idle > 0) and Deadline (when set).
func (h Header) ExpiresAt() int64 { return expiry.At(h.Touched, h.Idle, h.Deadline) }

// Live reports whether the record has not expired at now (Unix
// nanoseconds).
func (h Header) Live(now int64) bool { return expiry.Live(h.ExpiresAt(), now) }

// Record is one decoded session or global. The byte slices of a decoded
// record alias the buffer it was decoded from.
type Record struct {
	Header
	// ID is the session id, or the global's key; never empty.
	ID []byte
	// Data and Props are a session's data keys and props.
	Data, Props Pairs
	// Value is a global's value.
	Value []byte
}

// NewGlobal returns the record of global key holding value (aliased).
func NewGlobal(key string, value []byte) *Record {
	return &Record{Header: Header{Kind: KindGlobal}, ID: []byte(key), Value: value}
}

// DecodeHeader reads the fixed header of a record from the first HeaderLen
// bytes of b without checking the checksum: a hint for sweeps, Decode is
// the authority. Its errors wrap ErrMalformed.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, fmt.Errorf("%w: %d bytes, shorter than a header", ErrMalformed, len(b))
	}
	if [4]byte(b[0:4]) != recordMagic {
		return Header{}, fmt.Errorf("%w: bad magic or version %x", ErrMalformed, b[0:4])
	}
	return Header{
		Kind:     Kind(b[4]),
		Touched:  int64(binary.LittleEndian.Uint64(b[8:])),
		Idle:     int64(binary.LittleEndian.Uint64(b[16:])),
		Deadline: int64(binary.LittleEndian.Uint64(b[24:])),
	}, nil
}

// Decode checks and decodes b. Every length is checked, so the pairs it
// returns can be walked without further checks. The record aliases b. Its
// errors wrap ErrMalformed.
func Decode(b []byte) (Record, error) {
	var r Record
	if len(b) < HeaderLen+trailerLen {
		return r, fmt.Errorf("%w: %d bytes, shorter than a record", ErrMalformed, len(b))
	}
	body, sum := b[:len(b)-trailerLen], binary.LittleEndian.Uint32(b[len(b)-trailerLen:])
	if got := crc32.Checksum(body, castagnoli); got != sum {
		return r, fmt.Errorf("%w: checksum %08x, stored %08x", ErrMalformed, got, sum)
	}
	h, err := DecodeHeader(body)
	if err != nil {
		return r, err
	}
	if body[5]|body[6]|body[7] != 0 {
		return r, fmt.Errorf("%w: reserved header bytes set", ErrMalformed)
	}
	r.Header = h
	if r.Idle < 0 {
		return r, fmt.Errorf("%w: negative idle timeout", ErrMalformed)
	}
	rest := body[HeaderLen:]
	if r.ID, rest, err = readBytes(rest); err != nil {
		return r, fmt.Errorf("id: %w", err)
	}
	if len(r.ID) == 0 {
		return r, fmt.Errorf("%w: empty id", ErrMalformed)
	}
	switch r.Kind {
	case KindSession:
		if r.Data, rest, err = readPairs(rest); err != nil {
			return r, fmt.Errorf("data: %w", err)
		}
		if r.Props, rest, err = readPairs(rest); err != nil {
			return r, fmt.Errorf("props: %w", err)
		}
	case KindGlobal:
		if r.Value, rest, err = readBytes(rest); err != nil {
			return r, fmt.Errorf("value: %w", err)
		}
	default:
		return r, fmt.Errorf("%w: unknown kind %d", ErrMalformed, r.Kind)
	}
	if len(rest) != 0 {
		return r, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(rest))
	}
	return r, nil
}

// readBytes reads a uvarint length and that many bytes.
func readBytes(b []byte) (v, rest []byte, err error) {
	n, w := binary.Uvarint(b)
	if w <= 0 {
		return nil, nil, fmt.Errorf("%w: bad length", ErrMalformed)
	}
	b = b[w:]
	if n > uint64(len(b)) {
		return nil, nil, fmt.Errorf("%w: length %d past the end", ErrMalformed, n)
	}
	return b[:n:n], b[n:], nil
}

// Encode returns the encoding of r, checksum included, in a new buffer.
func (r *Record) Encode() []byte {
	size := HeaderLen + uvarintLen(uint64(len(r.ID))) + len(r.ID) + trailerLen
	if r.Kind == KindGlobal {
		size += uvarintLen(uint64(len(r.Value))) + len(r.Value)
	} else {
		size += uvarintLen(uint64(r.Data.n)) + len(r.Data.b) + uvarintLen(uint64(r.Props.n)) + len(r.Props.b)
	}
	b := make([]byte, HeaderLen, size)
	copy(b, recordMagic[:])
	b[4] = byte(r.Kind)
	binary.LittleEndian.PutUint64(b[8:], uint64(r.Touched))
	binary.LittleEndian.PutUint64(b[16:], uint64(r.Idle))
	binary.LittleEndian.PutUint64(b[24:], uint64(r.Deadline))
	b = binary.AppendUvarint(b, uint64(len(r.ID)))
	b = append(b, r.ID...)
	if r.Kind == KindGlobal {
		b = binary.AppendUvarint(b, uint64(len(r.Value)))
		b = append(b, r.Value...)
	} else {
		b = binary.AppendUvarint(b, uint64(r.Data.n))
		b = append(b, r.Data.b...)
		b = binary.AppendUvarint(b, uint64(r.Props.n))
		b = append(b, r.Props.b...)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}
