package bolt

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// Layout of the database file:
//
//	meta      "format" → formatText
//	sessions  key(id) → record (kind session): data, props and expiry
//	globals   key(key) → record (kind global)
//	expiry    be64(expiresAt) ‖ key(id) → empty, one entry per expiring session
//
// key(id) is 0x00 ‖ id for ids up to inlineKeyMax bytes (the usual phone
// numbers), and 0x01 ‖ sha256(id)[:16] ‖ be32(n) for longer ones: bbolt
// refuses keys over 32 KiB, and long keys bloat its branch pages. The full id
// is inside every record and compared on every lookup, so a hash is never
// trusted alone; ids whose hashes collide get distinct n, found by a prefix
// scan. The tag byte keeps the two forms from ever meeting.
const (
	inlineKeyMax = 512

	tagInline byte = 0
	tagHashed byte = 1
	hashLen        = 16
)

const formatText = "sessiongrid bolt store 1"

var (
	bucketMeta     = []byte("meta")
	bucketSessions = []byte("sessions")
	bucketGlobals  = []byte("globals")
	bucketExpiry   = []byte("expiry")
	keyFormat      = []byte("format")
)

// slot is where an id is, or would go, in a bucket.
type slot struct {
	key   []byte // bucket key (owned, safe to keep past the transaction)
	found bool
	rec   record.Record // the id's record when found; aliases the transaction's pages
}

// lookup finds id in b, whose records are of kind. A record that does not
// decode, or an inline key whose record holds another id, is ErrCorrupt.
func (s *Store) lookup(b *bbolt.Bucket, kind record.Kind, id string) (slot, error) {
	if len(id) <= inlineKeyMax {
		key := make([]byte, 1+len(id))
		key[0] = tagInline
		copy(key[1:], id)
		v := b.Get(key)
		if v == nil {
			return slot{key: key}, nil
		}
		r, err := s.decode(kind, key, v)
		if err != nil {
			return slot{}, err
		}
		if string(r.ID) != id {
			s.corrupt.Add(1)
			return slot{}, fmt.Errorf("%w: key %q holds id %q", ErrCorrupt, record.Truncate(id), record.Truncate(string(r.ID)))
		}
		return slot{key: key, found: true, rec: r}, nil
	}
	prefix, next := s.hashedPrefix(id), uint32(0)
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		r, err := s.decode(kind, k, v)
		if err != nil {
			return slot{}, err
		}
		if string(r.ID) == id {
			return slot{key: bytes.Clone(k), found: true, rec: r}, nil
		}
		if len(k) == len(prefix)+4 {
			next = binary.BigEndian.Uint32(k[len(prefix):]) + 1
		}
	}
	return slot{key: binary.BigEndian.AppendUint32(prefix, next)}, nil
}

// hashedPrefix returns the key prefix of a long id: its tag and hash.
func (s *Store) hashedPrefix(id string) []byte {
	sum := s.hash(id)
	prefix := make([]byte, 1+hashLen, 1+hashLen+4)
	prefix[0] = tagHashed
	copy(prefix[1:], sum[:])
	return prefix
}

// idHash is the hash of a long id in its key.
type idHash [hashLen]byte

func sha256ID(id string) idHash {
	sum := sha256.Sum256([]byte(id))
	return idHash(sum[:hashLen])
}

// decode decodes the value v of key, which must be a record of kind.
func (s *Store) decode(kind record.Kind, key, v []byte) (record.Record, error) {
	r, err := record.Decode(v)
	if err == nil && r.Kind != kind {
		err = fmt.Errorf("%w: kind %d, want %d", record.ErrMalformed, r.Kind, kind)
	}
	if err != nil {
		s.corrupt.Add(1)
		return r, fmt.Errorf("%w: key %q: %w", ErrCorrupt, record.Truncate(string(key)), err)
	}
	return r, nil
}

// expiryKey is the index key of a session expiring at (Unix nanoseconds):
// at with its sign bit flipped, big endian, so that keys sort by time.
func expiryKey(at int64, key []byte) []byte {
	k := make([]byte, 8, 8+len(key))
	binary.BigEndian.PutUint64(k, uint64(at)^(1<<63))
	return append(k, key...)
}

// parseExpiryKey splits an index key.
func parseExpiryKey(k []byte) (at int64, key []byte, ok bool) {
	if len(k) < 9 {
		return 0, nil, false
	}
	return int64(binary.BigEndian.Uint64(k) ^ (1 << 63)), k[8:], true
}
