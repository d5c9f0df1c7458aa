// Package loglimit bounds how many log lines a stream of similar events
// writes (refused connections from a scanner, junk on a member port, failed
// AUTHs): at most a burst per window, and the next line that is written
// says how many were left out.
package loglimit

import (
	"sync"
	"time"
)

// Limiter lets at most Burst events per Window be logged. Create it with
// New; it is safe for concurrent use.
type Limiter struct {
	burst  int
	window time.Duration

	mu         sync.Mutex // guards the fields below
	start      time.Time
	n          int
	suppressed int
}

// New returns a Limiter of burst lines per window (at least one line).
func New(burst int, window time.Duration) *Limiter {
	return &Limiter{burst: max(burst, 1), window: window}
}

// Allow reports whether an event at now may be logged, and how many events
// were not logged since the last one that was. Called from any goroutine;
// it never blocks beyond a short lock.
func (l *Limiter) Allow(now time.Time) (suppressed int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.start) >= l.window {
		l.start, l.n = now, 0
	}
	if l.n >= l.burst {
		l.suppressed++
		return 0, false
	}
	l.n++
	suppressed, l.suppressed = l.suppressed, 0
	return suppressed, true
}
