// Package testpoll waits in tests for a condition to hold, instead of
// sleeping a fixed time: it checks the condition every few milliseconds and
// fails the test when it has not held by a deadline.
package testpoll

import (
	"testing"
	"time"
)

// Interval is the pause between two checks of a condition.
const Interval = 10 * time.Millisecond

// Until waits until cond holds, checking it every Interval, and fails t
// (Fatal, so call it from the test's goroutine) when it still does not hold
// after timeout, naming what was awaited.
func Until(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(Interval)
	}
}
