// Package globals keeps the globals of an in-memory store (session/memory,
// session/cache): a map under a lock, behind the checks and errors of the
// global methods of session.Store. A store embeds a *Map, which promotes
// exactly SaveGlobal, GetGlobal, EvictGlobal and Globals; the store's own
// uses (Len, Clear) are functions, so that they stay off its method set.
package globals

import (
	"context"
	"fmt"
	"sync"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// Map is a store's globals. Create it with New. It is safe for concurrent
// use. Values are copied in and out: a caller never shares a slice with it.
type Map struct {
	closed       func() bool
	maxValueSize int

	mu sync.RWMutex // guards m
	m  map[string][]byte
}

// New returns an empty Map. closed reports that the store is closed (every
// method then fails with session.ErrClosed); maxValueSize bounds a value
// as session.ValidateValue does.
func New(closed func() bool, maxValueSize int) *Map {
	return &Map{closed: closed, maxValueSize: maxValueSize, m: make(map[string][]byte)}
}

func (g *Map) check(key string) error {
	if g.closed() {
		return session.ErrClosed
	}
	return session.ValidateKey(key)
}

// SaveGlobal implements session.Store.
func (g *Map) SaveGlobal(_ context.Context, key string, value []byte) error {
	if err := g.check(key); err != nil {
		return err
	}
	if err := session.ValidateValue(value, g.maxValueSize); err != nil {
		return err
	}
	v := record.Clone(value)
	g.mu.Lock()
	g.m[key] = v
	g.mu.Unlock()
	return nil
}

// GetGlobal implements session.Store.
func (g *Map) GetGlobal(_ context.Context, key string) ([]byte, error) {
	if err := g.check(key); err != nil {
		return nil, err
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	v, ok := g.m[key]
	if !ok {
		return nil, fmt.Errorf("%w: global %q", session.ErrNotFound, record.Truncate(key))
	}
	return record.Clone(v), nil
}

// EvictGlobal implements session.Store.
func (g *Map) EvictGlobal(_ context.Context, key string) (bool, error) {
	if err := g.check(key); err != nil {
		return false, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.m[key]
	delete(g.m, key)
	return ok, nil
}

// Globals implements session.Store.
func (g *Map) Globals(context.Context) (map[string][]byte, error) {
	if g.closed() {
		return nil, session.ErrClosed
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	out := make(map[string][]byte, len(g.m))
	for k, v := range g.m {
		out[k] = record.Clone(v)
	}
	return out, nil
}

// Len returns the number of globals in g.
func Len(g *Map) int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.m)
}

// Clear removes every global of g (for a store that drops its data at
// Close).
func Clear(g *Map) {
	g.mu.Lock()
	g.m = make(map[string][]byte)
	g.mu.Unlock()
}
