package replication

import (
	"sync"
	"time"
)

// logLimiter bounds how many lines a stream of similar events (refused
// connections from a scanner) writes: at most burst per window. It is safe
// for concurrent use.
type logLimiter struct {
	burst  int
	window time.Duration

	mu         sync.Mutex // guards the fields below
	start      time.Time
	n          int
	suppressed int
}

func newLogLimiter(burst int, window time.Duration) logLimiter {
	return logLimiter{burst: burst, window: window}
}

// allow reports whether an event at now may be logged, and how many events
// were not logged since the last one that was.
func (l *logLimiter) allow(now time.Time) (suppressed int, ok bool) {
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
