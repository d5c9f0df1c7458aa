package session

import "errors"

// Sentinel errors of the contract. Implementations wrap them with context
// (fmt.Errorf("...: %w", ErrNotFound)); callers test with errors.Is.
var (
	// ErrNotFound reports that a session, a key in it, a prop or a global
	// does not exist (or has expired).
	ErrNotFound = errors.New("session: not found")
	// ErrInvalidID reports an empty or oversized session id.
	ErrInvalidID = errors.New("session: invalid session id")
	// ErrInvalidKey reports an empty or oversized key (data, prop or global).
	ErrInvalidKey = errors.New("session: invalid key")
	// ErrTooLarge reports a value, or a session, over the configured limit.
	ErrTooLarge = errors.New("session: value too large")
	// ErrWrongType reports an operation on a key that holds another type
	// (a session hash used as a plain string or the reverse).
	ErrWrongType = errors.New("session: key holds the wrong kind of value")
	// ErrClosed reports use of a store or manager after Close.
	ErrClosed = errors.New("session: closed")
	// ErrCodec reports a value that could not be encoded or decoded.
	ErrCodec = errors.New("session: codec")
	// ErrUnavailable reports that the backend could not serve the request
	// (connection refused, no quorum, timeout). The operation may or may not
	// have been applied when it was a write.
	ErrUnavailable = errors.New("session: backend unavailable")
)
