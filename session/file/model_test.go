package file_test

import (
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session/file"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
)

// TestAgainstMemory runs random operations on this store and on the
// in-memory reference store side by side (storetest.RunModel).
func TestAgainstMemory(t *testing.T) {
	storetest.RunModel(t, 4, func(t *testing.T, now func() time.Time, touch bool) func() storetest.Store {
		dir := t.TempDir()
		return func() storetest.Store {
			return open(t, dir, withNow(now), func(c *file.Config) { c.TouchOnRead = touch })
		}
	})
}
