package testrun_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/sessiongrid/sessiongrid/internal/testrun"
)

func TestConcurrentlyRunsEveryWorker(t *testing.T) {
	var seen [8]atomic.Bool
	testrun.Concurrently(t, len(seen), func(i int) error {
		seen[i].Store(true)
		return nil
	})
	for i := range seen {
		if !seen[i].Load() {
			t.Fatalf("worker %d did not run", i)
		}
	}
}

// fatalRecorder is a testing.TB that records Fatal instead of ending the
// test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper()           {}
func (r *fatalRecorder) Fatal(args ...any) { r.msg = fmt.Sprint(args...) }

func TestConcurrentlyFailsWithEveryError(t *testing.T) {
	r := &fatalRecorder{TB: t}
	testrun.Concurrently(r, 3, func(i int) error {
		if i == 0 {
			return nil
		}
		return fmt.Errorf("worker %d failed", i)
	})
	if r.msg != "worker 1 failed\nworker 2 failed" {
		t.Fatalf("Fatal(%q), want both errors in worker order", r.msg)
	}
}
