package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/session"
)

// busyCodes are the codes redis-server itself replies with while it cannot
// serve; they stand for session.ErrUnavailable. Redis's WRONGTYPE and the
// codes gridnode adds come from the contract's table, session.ErrorForCode.
var busyCodes = map[string]bool{
	"LOADING":     true, // redis-server still loading its data
	"BUSY":        true, // a script is running too long
	"MASTERDOWN":  true,
	"TRYAGAIN":    true,
	"CLUSTERDOWN": true,
}

// replySentinel returns the sentinel that the code of an error reply (its
// first word) stands for, nil when none: any other reply error is returned
// as it is, wrapped.
func replySentinel(code string) error {
	if busyCodes[code] {
		return session.ErrUnavailable
	}
	return session.ErrorForCode(code)
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
		if sentinel := replySentinel(code); sentinel != nil {
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
