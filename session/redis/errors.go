package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/session"
)

// errorCodes maps the first word of an error reply to a session sentinel:
// Redis's own WRONGTYPE and the codes gridnode adds (see gridnode's RESP
// command table). Any other reply error is returned as it is, wrapped.
var errorCodes = map[string]error{
	"WRONGTYPE":   session.ErrWrongType,
	"INVALIDID":   session.ErrInvalidID,
	"INVALIDKEY":  session.ErrInvalidKey,
	"TOOLARGE":    session.ErrTooLarge,
	"UNAVAILABLE": session.ErrUnavailable,
	"LOADING":     session.ErrUnavailable, // redis-server still loading its data
	"BUSY":        session.ErrUnavailable, // a script is running too long
	"MASTERDOWN":  session.ErrUnavailable,
	"TRYAGAIN":    session.ErrUnavailable,
	"CLUSTERDOWN": session.ErrUnavailable,
}

// mapErr turns a go-redis error of operation op into one matching the
// contract's sentinels. goredis.Nil (a missing value) is left to callers,
// which know what was missing.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var rerr goredis.Error
	if errors.As(err, &rerr) && !isNetErr(err) {
		code, _, _ := strings.Cut(rerr.Error(), " ")
		if sentinel, ok := errorCodes[code]; ok {
			return fmt.Errorf("redis: %s: %w: %w", op, sentinel, err)
		}
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	// Anything else is the connection's: refused, reset, timed out,
	// cancelled, pool exhausted, client closed.
	return fmt.Errorf("redis: %s: %w: %w", op, session.ErrUnavailable, err)
}

// isNetErr reports errors that go-redis types as Error but that come from
// the connection, not from a reply.
func isNetErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, goredis.ErrClosed) || errors.Is(err, goredis.ErrPoolTimeout)
}
