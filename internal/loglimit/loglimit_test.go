package loglimit

import (
	"sync"
	"testing"
	"time"
)

func TestLimiterBurstThenWindow(t *testing.T) {
	l := New(3, time.Minute)
	t0 := time.Unix(1000, 0)
	for i := range 3 {
		if n, ok := l.Allow(t0); !ok || n != 0 {
			t.Fatalf("event %d: got (%d, %v), want (0, true)", i, n, ok)
		}
	}
	for i := range 5 {
		if _, ok := l.Allow(t0.Add(time.Second)); ok {
			t.Fatalf("event %d over the burst was allowed", i)
		}
	}
	// A new window: allowed again, and told how many were left out.
	if n, ok := l.Allow(t0.Add(time.Minute)); !ok || n != 5 {
		t.Fatalf("first event of the next window: got (%d, %v), want (5, true)", n, ok)
	}
	if n, ok := l.Allow(t0.Add(time.Minute)); !ok || n != 0 {
		t.Fatalf("second event of the next window: got (%d, %v), want (0, true)", n, ok)
	}
}

func TestLimiterZeroBurstAllowsOne(t *testing.T) {
	l := New(0, time.Minute)
	if _, ok := l.Allow(time.Unix(1, 0)); !ok {
		t.Fatal("the first event of a window must be allowed")
	}
	if _, ok := l.Allow(time.Unix(1, 0)); ok {
		t.Fatal("the second event was allowed with burst 0 (treated as 1)")
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l := New(10, time.Hour)
	now := time.Unix(5, 0)
	var mu sync.Mutex
	allowed, suppressedSeen := 0, 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				n, ok := l.Allow(now)
				mu.Lock()
				if ok {
					allowed++
				}
				suppressedSeen += n
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if allowed != 10 {
		t.Fatalf("allowed %d events in one window, want 10", allowed)
	}
	if suppressedSeen != 0 {
		t.Fatalf("suppressed count reported inside the window: %d", suppressedSeen)
	}
	if n, ok := l.Allow(now.Add(time.Hour)); !ok || n != 790 {
		t.Fatalf("next window: got (%d, %v), want (790, true)", n, ok)
	}
}
