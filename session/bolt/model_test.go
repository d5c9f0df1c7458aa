package bolt_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session/bolt"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
)

// TestAgainstMemory runs random operations on this store and on the
// in-memory reference store side by side (storetest.RunModel), with and
// without batched commits.
func TestAgainstMemory(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprintf("Batch=%v", batch), func(t *testing.T) {
			seeds := uint64(4)
			if batch {
				seeds = 2 // each batched write waits BatchDelay
			}
			storetest.RunModel(t, seeds, func(t *testing.T, now func() time.Time, touch bool) func() storetest.Store {
				path := dbPath(t)
				return func() storetest.Store {
					return open(t, path, withNow(now), func(c *bolt.Config) {
						c.TouchOnRead = touch
						c.Batch, c.BatchDelay = batch, 50*time.Microsecond
					})
				}
			})
		})
	}
}
