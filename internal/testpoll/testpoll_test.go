package testpoll_test

import (
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/testpoll"
)

func TestUntilReturnsOnceTheConditionHolds(t *testing.T) {
	n := 0
	testpoll.Until(t, 10*time.Second, "three checks", func() bool { n++; return n == 3 })
	if n != 3 {
		t.Fatalf("checked %d times, want 3", n)
	}
}

// fatalTB records a Fatalf instead of stopping the test.
type fatalTB struct {
	testing.TB
	failed bool
}

func (f *fatalTB) Helper()               {}
func (f *fatalTB) Fatalf(string, ...any) { f.failed = true }

func TestUntilFailsAfterTheTimeout(t *testing.T) {
	f := &fatalTB{TB: t}
	testpoll.Until(f, 30*time.Millisecond, "never", func() bool { return f.failed })
	if !f.failed {
		t.Fatal("Until did not fail")
	}
}
