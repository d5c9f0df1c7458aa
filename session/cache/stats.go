package cache

import "github.com/sessiongrid/sessiongrid/session/internal/globals"

// Stats is a snapshot of the store's counters. Counters are cumulative
// since New.
type Stats struct {
	// Sessions is the number of sessions held, expired ones not yet
	// reclaimed included.
	Sessions int
	// Bytes is the session payload held (ids, keys and values), the weight
	// bounded by Config.MaxBytes.
	Bytes int64
	// Globals is the number of globals.
	Globals int
	// Hits and Misses count session reads (Get, GetAll, Exists, GetProp,
	// Props, TTL) that found the session live, or not.
	Hits, Misses uint64
	// Evictions counts sessions removed to respect the bound.
	Evictions uint64
	// Expirations counts sessions removed because they expired.
	Expirations uint64
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	return Stats{
		Sessions:    s.index.len(),
		Bytes:       s.bytes.Load(),
		Globals:     globals.Len(s.globalOps),
		Hits:        s.hits.Load(),
		Misses:      s.misses.Load(),
		Evictions:   s.evictions.Load(),
		Expirations: s.expirations.Load(),
	}
}

// CleanUp runs otter's pending maintenance now: evictions owed to the bound
// and expirations its timer wheel has reached. Tests use it before reading
// Stats; a busy cache does not need it.
func (s *Store) CleanUp() { s.sessions.CleanUp() }
