package session

import (
	"context"
	"time"
)

// Field is one key and its encoded value.
type Field struct {
	Key   string
	Value []byte
}

// Expiry sets how a session expires.
type Expiry struct {
	// Idle is the sliding idle timeout: the session expires when no write
	// (and, if the store slides on reads, no read) touched it for Idle.
	// In SetExpiry, zero keeps the session's current idle timeout (the
	// store's default for a new session); NoExpiry (or any negative value)
	// means the session never idles out.
	Idle time.Duration
	// TTL is an absolute lifetime measured from the call; the session
	// expires after it whatever its activity. Zero (or negative) removes
	// the absolute deadline.
	TTL time.Duration
}

// NoExpiry as Expiry.Idle disables idle expiry for a session.
const NoExpiry time.Duration = -1

// Store is the byte-level contract every backend implements.
//
// Concurrency: every method is safe for concurrent use by many goroutines,
// and every method is one atomic operation: concurrent calls on one session
// behave as if run one after the other in some order. Methods may block on
// I/O and honour ctx. A Store copies the byte slices it is given before
// returning (the caller may reuse them) and returns slices the caller owns.
//
// Validation: an empty session id returns ErrInvalidID, an empty key
// ErrInvalidKey, a value over the store's limit ErrTooLarge; nothing is
// changed then.
//
// Missing data: single-value reads return ErrNotFound; collection reads
// return an empty non-nil map.
type Store interface {
	// Save writes every field into session id as one atomic step, creating
	// the session if needed, and slides its idle timeout. It returns how
	// many of the keys did not exist before.
	Save(ctx context.Context, id string, fields ...Field) (added int, err error)
	// Get returns the value of key in session id.
	Get(ctx context.Context, id, key string) ([]byte, error)
	// GetAll returns every data key of session id (props excluded).
	GetAll(ctx context.Context, id string) (map[string][]byte, error)
	// Exists reports whether key is in session id.
	Exists(ctx context.Context, id, key string) (bool, error)
	// Evict removes the keys from session id in one atomic step and returns
	// how many existed. A session left with no data and no props is removed.
	Evict(ctx context.Context, id string, keys ...string) (removed int, err error)
	// Clear with no retain list removes the whole session, data and props.
	// With retain, it removes every data key not named exactly in retain and
	// keeps the props. It reports whether the session existed.
	Clear(ctx context.Context, id string, retain ...string) (existed bool, err error)

	// SaveProp writes one prop of session id (creating the session if
	// needed) and slides its idle timeout.
	SaveProp(ctx context.Context, id, key string, value []byte) error
	// GetProp returns one prop of session id.
	GetProp(ctx context.Context, id, key string) ([]byte, error)
	// Props returns every prop of session id.
	Props(ctx context.Context, id string) (map[string][]byte, error)
	// EvictProp removes one prop and reports whether it existed.
	EvictProp(ctx context.Context, id, key string) (existed bool, err error)

	// SetExpiry overrides the expiry of an existing key (ErrNotFound if it
	// does not exist) and restarts its idle clock. See Expiry for the
	// meaning of zero fields. The override lasts until the session is
	// cleared entirely.
	SetExpiry(ctx context.Context, id string, e Expiry) error
	// TTL returns the time left before session id expires, or NoExpiry when
	// it never expires; ErrNotFound when it does not exist.
	TTL(ctx context.Context, id string) (time.Duration, error)

	// SaveGlobal writes a global value, shared by every session.
	SaveGlobal(ctx context.Context, key string, value []byte) error
	// GetGlobal returns a global value.
	GetGlobal(ctx context.Context, key string) ([]byte, error)
	// EvictGlobal removes a global and reports whether it existed.
	EvictGlobal(ctx context.Context, key string) (existed bool, err error)
	// Globals returns every global.
	Globals(ctx context.Context) (map[string][]byte, error)

	// Close releases the store. It is idempotent: a second Close returns
	// nil; every other call after Close returns ErrClosed.
	Close(ctx context.Context) error
}

// Sweeper is implemented by stores that reclaim the memory of expired
// sessions in the background. Sweep runs one full pass now (tests use it
// instead of waiting for the timer) and returns how many sessions it removed.
type Sweeper interface {
	Sweep(ctx context.Context) (removed int, err error)
}
