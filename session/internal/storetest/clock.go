package storetest

import (
	"time"

	"github.com/sessiongrid/sessiongrid/session/sessiontest"
)

// NewClock returns a fake clock for a store's Config.Now. It reads
// 2026-01-02 03:04:05 UTC until it is moved.
func NewClock() *sessiontest.Clock {
	return sessiontest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
}
