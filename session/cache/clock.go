package cache

import (
	"sync"
	"time"
)

// clock is the store's clock as an otter.Clock, so that otter's expiry and
// the store's own deadline checks read the same time (a fake one in tests).
// It owns the ticker of otter's periodic clean-up and stops it at Close.
type clock struct {
	now func() time.Time

	mu      sync.Mutex // guards ticker and stopped
	ticker  *time.Ticker
	stopped bool
}

// NowNano implements otter.Clock.
func (c *clock) NowNano() int64 { return c.now().UnixNano() }

// Tick implements otter.Clock: otter calls it once, from its clean-up
// goroutine. The ticks are real time whatever the clock: they only say
// when to look for expired entries, at the clock's time.
func (c *clock) Tick(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil // no ticks: the goroutine returns
	}
	if c.ticker == nil {
		c.ticker = time.NewTicker(d)
	}
	return c.ticker.C
}

// stop stops the ticker, and any later one.
func (c *clock) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	if c.ticker != nil {
		c.ticker.Stop()
	}
}
