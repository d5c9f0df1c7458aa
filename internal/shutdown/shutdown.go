// Package shutdown holds what the Close methods of the grid's servers and
// transports share: waiting for their goroutines within the caller's
// deadline.
package shutdown

import (
	"context"
	"sync"
)

// Wait waits until wg's counter is zero or ctx ends, and returns ctx.Err()
// in the second case. When ctx ends first, a goroutine stays behind until
// wg is done (the goroutines it waits for were already told to stop).
func Wait(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
