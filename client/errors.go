package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/session"
)

// replyCode returns the code of a RESP error reply and whether err is one.
// session.ErrorForCode maps the code to its sentinel: server/ writes the
// codes from the same table.
func replyCode(err error) (code, msg string, ok bool) {
	var re redis.Error
	if !errors.As(err, &re) {
		return "", "", false
	}
	msg = re.Error()
	code, _, _ = strings.Cut(msg, " ")
	return code, msg, true
}

// mapError turns an error of go-redis for command op into the contract's
// errors. ctx is the caller's context, used to tell a cancellation by the
// caller from a failure of the backend.
func mapError(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("client: %s: %w", op, session.ErrClosed)
	}
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("%w: %s", session.ErrNotFound, op)
	}
	if code, msg, ok := replyCode(err); ok {
		if sentinel := session.ErrorForCode(code); sentinel != nil {
			return fmt.Errorf("%w: %s: server replied %q", sentinel, op, msg)
		}
		// ERR, NOAUTH, WRONGPASS...: keep the redis.Error for errors.As.
		return fmt.Errorf("client: %s: %w", op, err)
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		// The caller gave up; a write may still have been applied.
		return fmt.Errorf("client: %s: %w", op, err)
	}
	// Transport failure or timeout: no reply, so the outcome is unknown.
	if cerr := ctxErr(ctx); cerr != nil && !errors.Is(err, cerr) {
		// The socket deadline came from ctx: say so (errors.Is finds both).
		return fmt.Errorf("%w: %s: %w (%w)", session.ErrUnavailable, op, err, cerr)
	}
	return fmt.Errorf("%w: %s: %w", session.ErrUnavailable, op, err)
}

// neverSent reports whether err proves the command never left the client:
// the connection could not be dialled, or no pooled connection came free.
// Retrying such a command cannot apply it twice.
func neverSent(err error) bool {
	if errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrPoolExhausted) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// transient reports whether err is worth retrying for a read: a transport
// failure (not a reply, not the caller's ctx, not a closed client) or an
// UNAVAILABLE reply.
func transient(ctx context.Context, err error) bool {
	if ctxErr(ctx) != nil || errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.Nil) {
		return false
	}
	if code, _, ok := replyCode(err); ok {
		return session.ErrorForCode(code) == session.ErrUnavailable
	}
	return true
}

// ctxErr is ctx.Err(), or DeadlineExceeded once ctx's deadline has passed:
// a socket deadline taken from ctx can fire before ctx's own timer does.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}
