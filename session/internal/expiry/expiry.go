// Package expiry is the arithmetic of a session's expiry that the stores
// share: an idle timeout that restarts at each touch and an optional
// absolute deadline, all in Unix nanoseconds of the store's clock. Each
// store keeps the three numbers in its own entry or record type.
package expiry

import (
	"math"

	"github.com/sessiongrid/sessiongrid/session"
)

// At returns when a session last touched at touched expires, 0 if never:
// the earlier of touched+idle (when idle > 0) and deadline (when not 0). A
// sum past the int64 range is as good as never.
func At(touched, idle, deadline int64) int64 {
	var at int64
	if idle > 0 {
		at = touched + idle
		if at < touched { // overflow
			at = math.MaxInt64
		}
	}
	if deadline != 0 && (at == 0 || deadline < at) {
		at = deadline
	}
	return at
}

// Live reports whether a session that expires at at (0: never) is alive at
// now.
func Live(at, now int64) bool { return at == 0 || now < at }

// Override applies the expiry override x at now to a session whose idle
// timeout is idle, and returns its new idle timeout and deadline: x.Idle > 0
// sets the idle timeout, x.Idle < 0 disables it, 0 keeps it; x.TTL > 0 sets
// the deadline now+TTL (past the int64 range: never), otherwise there is
// none. The caller restarts the idle clock at now.
func Override(x session.Expiry, idle, now int64) (newIdle, deadline int64) {
	switch {
	case x.Idle > 0:
		idle = int64(x.Idle)
	case x.Idle < 0:
		idle = 0
	}
	if x.TTL > 0 {
		deadline = now + int64(x.TTL)
		if deadline < now {
			deadline = math.MaxInt64
		}
	}
	return idle, deadline
}
