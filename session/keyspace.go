package session

import (
	"context"
	"time"
)

// Kind is the type of value a key holds in a keyspace that mixes sessions
// and plain strings (gridnode's RESP keyspace).
type Kind uint8

// Kinds of keys.
const (
	KindNone    Kind = iota // the key does not exist
	KindSession             // a session: data keys (a Redis hash) and props
	KindString              // a plain string value (locks, simple values)
)

// String returns the Redis TYPE name of the kind.
func (k Kind) String() string {
	switch k {
	case KindSession:
		return "hash"
	case KindString:
		return "string"
	default:
		return "none"
	}
}

// SetCondition is the precondition of SetString.
type SetCondition uint8

// Set conditions, as in Redis's SET.
const (
	SetAlways      SetCondition = iota
	SetIfNotExists              // NX
	SetIfExists                 // XX
	SetIfEqual                  // IFEQ value: only if the key holds exactly Match
)

// SetOptions are the options of SetString (Redis SET's flags).
type SetOptions struct {
	Cond  SetCondition
	Match []byte // the value compared by SetIfEqual
	// TTL > 0 gives the key an absolute deadline; otherwise the key has
	// none, unless KeepTTL keeps the deadline it had.
	TTL     time.Duration
	KeepTTL bool
	// Get asks for the previous value (SET ... GET).
	Get bool
}

// SetResult is the outcome of SetString.
type SetResult struct {
	Applied bool   // the value was written
	Old     []byte // previous value when SetOptions.Get and it existed
	Existed bool   // the key held a string before
}

// Strings is an optional capability of a Store whose keyspace also holds
// plain string keys beside sessions. A key holds one kind at a time: string
// operations on a session key return ErrWrongType, as session operations
// on a string key do. Plain strings never idle out; they expire only at the
// deadline set by SetOptions.TTL or SetExpiry.
type Strings interface {
	// GetString returns the value of a string key.
	GetString(ctx context.Context, key string) ([]byte, error)
	// SetString writes a string key under the options. An unconditional set
	// replaces a key of any kind (as Redis's SET does); with Get or
	// SetIfEqual, a session key gives ErrWrongType.
	SetString(ctx context.Context, key string, value []byte, opt SetOptions) (SetResult, error)
	// DeleteIf deletes a string key if its value equals value (equal=true,
	// DELEX IFEQ) or differs from it (equal=false, DELEX IFNE) and reports
	// whether it deleted. A missing key reports false.
	DeleteIf(ctx context.Context, key string, equal bool, value []byte) (bool, error)
}

// Keyspace is an optional capability of a Store that can enumerate and
// delete keys whatever their kind (DEL, EXISTS, TYPE, SCAN, DBSIZE).
type Keyspace interface {
	// KindOf returns the kind of key (KindNone if missing or expired).
	KindOf(ctx context.Context, key string) (Kind, error)
	// Delete removes the keys whatever their kind and returns how many existed.
	Delete(ctx context.Context, keys ...string) (int, error)
	// Scan returns keys matching a Redis glob pattern ("" matches all),
	// about count per call, starting at cursor (0 to begin); the returned
	// cursor is 0 when the scan is complete. A key present for the whole
	// scan is returned at least once.
	Scan(ctx context.Context, cursor uint64, pattern string, count int) (next uint64, keys []string, err error)
	// Len returns the number of live keys.
	Len(ctx context.Context) (int, error)
}

// Stats are the counters a store reports (INFO keyspace and memory,
// metrics). A store offers them through a method Stats() Stats, an optional
// capability its users find by type assertion.
type Stats struct {
	Keys     int    // live and not-yet-swept keys
	Sessions int    // keys holding sessions
	Strings  int    // keys holding plain strings
	Globals  int    // globals
	Bytes    int64  // bytes of ids, keys and values held (payload, not overhead)
	Expired  uint64 // keys removed because they expired, since the store was created
}
