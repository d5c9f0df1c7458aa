package session

import (
	"context"
	"time"
)

// Handle is a session-scoped view of a Manager: the same operations without
// the id argument (ISessionManager.session(id) of the WCE engines). The zero
// Handle is not usable; get one from Manager.Session. Handles are values,
// cheap to copy and safe for concurrent use.
type Handle struct {
	m  Manager
	id string
}

// ID returns the session id the handle is bound to.
func (h Handle) ID() string { return h.id }

// Manager returns the manager the handle belongs to.
func (h Handle) Manager() Manager { return h.m }

// Save stores value under key.
func (h Handle) Save(ctx context.Context, key string, value any) error {
	return h.m.Save(ctx, h.id, key, value)
}

// SaveAll stores every entry of values atomically.
func (h Handle) SaveAll(ctx context.Context, values map[string]any) error {
	return h.m.SaveAll(ctx, h.id, values)
}

// Load returns the value under key, decoded untyped.
func (h Handle) Load(ctx context.Context, key string) (any, error) {
	return h.m.Load(ctx, h.id, key)
}

// LoadInto decodes the value under key into dst.
func (h Handle) LoadInto(ctx context.Context, key string, dst any) error {
	return h.m.LoadInto(ctx, h.id, key, dst)
}

// FetchAll returns every data key of the session.
func (h Handle) FetchAll(ctx context.Context) (map[string]any, error) {
	return h.m.FetchAll(ctx, h.id)
}

// Exists reports whether key is in the session.
func (h Handle) Exists(ctx context.Context, key string) (bool, error) {
	return h.m.Exists(ctx, h.id, key)
}

// Evict removes key.
func (h Handle) Evict(ctx context.Context, key string) error {
	return h.m.Evict(ctx, h.id, key)
}

// EvictAll removes keys atomically.
func (h Handle) EvictAll(ctx context.Context, keys ...string) error {
	return h.m.EvictAll(ctx, h.id, keys...)
}

// Clear removes the session, or with retain every data key not in retain.
func (h Handle) Clear(ctx context.Context, retain ...string) error {
	return h.m.Clear(ctx, h.id, retain...)
}

// SaveProp stores one prop.
func (h Handle) SaveProp(ctx context.Context, key string, value any) error {
	return h.m.SaveProp(ctx, h.id, key, value)
}

// LoadProp returns one prop, decoded untyped.
func (h Handle) LoadProp(ctx context.Context, key string) (any, error) {
	return h.m.LoadProp(ctx, h.id, key)
}

// LoadPropInto decodes one prop into dst.
func (h Handle) LoadPropInto(ctx context.Context, key string, dst any) error {
	return h.m.LoadPropInto(ctx, h.id, key, dst)
}

// Props returns every prop.
func (h Handle) Props(ctx context.Context) (map[string]any, error) {
	return h.m.Props(ctx, h.id)
}

// EvictProp removes one prop and reports whether it existed.
func (h Handle) EvictProp(ctx context.Context, key string) (bool, error) {
	return h.m.EvictProp(ctx, h.id, key)
}

// SetExpiry overrides the session's expiry.
func (h Handle) SetExpiry(ctx context.Context, e Expiry) error {
	return h.m.SetExpiry(ctx, h.id, e)
}

// TTL returns the time left before the session expires.
func (h Handle) TTL(ctx context.Context) (time.Duration, error) {
	return h.m.TTL(ctx, h.id)
}

// HandleGet is Get for a Handle.
func HandleGet[T any](ctx context.Context, h Handle, key string) (T, error) {
	return Get[T](ctx, h.m, h.id, key)
}

// HandleGetProp is GetProp for a Handle.
func HandleGetProp[T any](ctx context.Context, h Handle, key string) (T, error) {
	return GetProp[T](ctx, h.m, h.id, key)
}
