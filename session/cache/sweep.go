package cache

import (
	"context"

	"github.com/maypok86/otter/v2"

	"github.com/sessiongrid/sessiongrid/session"
)

// Sweep implements session.Sweeper. otter reclaims expired sessions on its
// own (its timer wheel, advanced on writes and every second), but only at
// the wheel's resolution of about a second; Sweep runs otter's maintenance
// now and then walks every session id held, removing each expired one at
// once. It returns how many sessions expired since the previous Sweep,
// whoever reclaimed them (this pass, the wheel, or a write that replaced an
// expired session), so that successive calls add up to Stats().Expirations.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	if s.closed.Load() {
		return 0, session.ErrClosed
	}
	s.sessions.CleanUp()
	for i := range s.index.shards {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		for _, id := range s.index.snapshot(i) {
			if e, ok := s.sessions.GetEntryQuietly(id); ok && e.Value.live(s.now()) {
				continue // live
			}
			// Expired (or gone meanwhile): a cancelled Compute removes an
			// entry otter finds expired and leaves a live one alone.
			s.sessions.ComputeIfPresent(id, func(cur *entry) (*entry, otter.ComputeOp) {
				if !cur.live(s.now()) {
					s.expirations.Add(1)
					return nil, otter.InvalidateOp
				}
				return cur, otter.CancelOp
			})
		}
	}
	total := s.expirations.Load()
	return int(total - s.swept.Swap(total)), nil
}
