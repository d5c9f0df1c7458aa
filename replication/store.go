package replication

import "context"

// The methods below give Globals the global half of session.Store, under
// the contract's names, so that a server can serve GLOBAL.* commands and the
// Store's global methods from the Raft map: a store type that embeds a local
// session.Store and overrides these four methods with a *Globals is all the
// wiring needed.

// SaveGlobal is Save.
func (g *Globals) SaveGlobal(ctx context.Context, key string, value []byte) error {
	return g.Save(ctx, key, value)
}

// GetGlobal is a linearizable Get.
func (g *Globals) GetGlobal(ctx context.Context, key string) ([]byte, error) {
	return g.Get(ctx, key)
}

// EvictGlobal is Evict.
func (g *Globals) EvictGlobal(ctx context.Context, key string) (bool, error) {
	return g.Evict(ctx, key)
}

// Globals is a linearizable All.
func (g *Globals) Globals(ctx context.Context) (map[string][]byte, error) {
	return g.All(ctx)
}
