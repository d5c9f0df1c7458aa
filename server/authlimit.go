package server

import "time"

// Failed authentication. A wrong password is answered after a delay that
// grows with the failures of the connection (so one connection cannot try
// thousands of passwords a second), counted in gridnode_auth_failures_total,
// logged at warn (rate-limited), and the connection is closed after
// MaxAuthFailures.
const (
	// MaxAuthFailures is how many failed AUTH (or HELLO AUTH) one
	// connection may make; the last is answered and the connection closed.
	MaxAuthFailures = 10
	// authFailureDelay, times the failures so far (at most
	// authMaxFailureDelay), delays the reply to a failed attempt.
	authFailureDelay    = 20 * time.Millisecond
	authMaxFailureDelay = 200 * time.Millisecond
)

// authFailed answers a failed authentication.
func (c *conn) authFailed() {
	c.authFails++
	c.s.metrics.authFailures.Inc()
	last := c.authFails >= MaxAuthFailures
	if n, ok := c.s.securityLog.Allow(time.Now()); ok {
		c.s.log.Warn("authentication failed", "remote", c.nc.RemoteAddr().String(),
			"failures_on_connection", c.authFails, "closing", last, "not_logged_since", n)
	}
	delay := min(time.Duration(c.authFails)*authFailureDelay, authMaxFailureDelay)
	if c.gateHeld {
		c.authDelay += delay // AUTH queued in a transaction: waited after it, not holding the gate
	} else {
		time.Sleep(delay)
	}
	c.out.error("WRONGPASS invalid username-password pair or user is disabled.")
	if last {
		c.quit = true
	}
}
