package session

import (
	"context"
	"errors"
)

// wireCodes is the one static table between the contract's errors and the
// codes that start a RESP error reply ("TOOLARGE value of 9 MB, limit 8 MB").
// gridnode's server writes the codes; the remote client and the redis
// backend read them back. Codes are part of the wire protocol: never rename
// one.
//
// Encoding takes the first row whose error matches (errors.Is), so an error
// wrapping several sentinels gets the code of the earliest. Decoding takes
// the first row of a code: the rows after ErrUnavailable only encode (a
// closed store, a cancelled or timed-out request are UNAVAILABLE on the
// wire and read back as ErrUnavailable). ErrNotFound has no code: RESP
// answers a missing value with a nil reply, not an error.
var wireCodes = []struct {
	err  error
	code string
}{
	{ErrWrongType, "WRONGTYPE"},
	{ErrInvalidID, "INVALIDID"},
	{ErrInvalidKey, "INVALIDKEY"},
	{ErrTooLarge, "TOOLARGE"},
	{ErrUnavailable, "UNAVAILABLE"},
	{ErrClosed, "UNAVAILABLE"},
	{context.Canceled, "UNAVAILABLE"},
	{context.DeadlineExceeded, "UNAVAILABLE"},
}

// ErrorCode returns the RESP error code for err: the first word of the
// error reply a server sends for it. It returns "" when err matches none of
// the codes (a server then replies with a plain ERR).
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	for _, w := range wireCodes {
		if errors.Is(err, w.err) {
			return w.code
		}
	}
	return ""
}

// ErrorForCode returns the sentinel that the code of a RESP error reply (its
// first word) stands for, or nil for a code of no sentinel (ERR, NOAUTH,
// NOPROTO...).
func ErrorForCode(code string) error {
	for _, w := range wireCodes {
		if w.code == code {
			return w.err
		}
	}
	return nil
}
