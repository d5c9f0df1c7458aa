package sessiontest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session/sessiontest"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := sessiontest.NewClock(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now() = %v, want %v", got, start)
	}
	c.Advance(30 * time.Minute)
	if got, want := c.Now(), start.Add(30*time.Minute); !got.Equal(want) {
		t.Fatalf("after Advance(30m): Now() = %v, want %v", got, want)
	}
	c.Advance(-time.Hour)
	if got, want := c.Now(), start.Add(30*time.Minute); !got.Equal(want) {
		t.Fatalf("Advance(-1h) moved the clock: Now() = %v, want %v", got, want)
	}
	c.Set(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("after Set(start): Now() = %v, want %v", got, start)
	}
	var zero sessiontest.Clock
	if !zero.Now().IsZero() {
		t.Fatalf("zero Clock: Now() = %v, want the zero time", zero.Now())
	}
}

func TestClockConcurrent(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := sessiontest.NewClock(start)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got, want := c.Now(), start.Add(800*time.Second); !got.Equal(want) {
		t.Fatalf("after 800 concurrent Advance(1s): Now() = %v, want %v", got, want)
	}
}
