package session

import (
	"context"
	"fmt"
	"time"
)

// Manager is the session-manager contract bots program against: the WCE
// engines' ISessionManager in Go habits. Values are arbitrary Go values
// encoded with the manager's codec; Get, GetProp and GetGlobal (the package
// functions) decode straight into a type.
//
// Value semantics: mutating a value after Save, or a value returned by a
// read, never changes what is stored.
//
// Every method is safe for concurrent use and is one atomic operation.
type Manager interface {
	// Session returns a handle bound to id. Calling it any number of times
	// with the same id gives handles that behave the same.
	Session(id string) Handle

	// Save stores value under key in session id.
	Save(ctx context.Context, id, key string, value any) error
	// SaveAll stores every entry of values in session id as one atomic step.
	SaveAll(ctx context.Context, id string, values map[string]any) error
	// Load returns the value under key, decoded into the codec's untyped form
	// (for JSON: float64, string, bool, []any, map[string]any, nil).
	Load(ctx context.Context, id, key string) (any, error)
	// LoadInto decodes the value under key into dst (a pointer).
	LoadInto(ctx context.Context, id, key string, dst any) error
	// FetchAll returns every data key of session id (not props), decoded.
	FetchAll(ctx context.Context, id string) (map[string]any, error)
	// Exists reports whether key is in session id (key_in_session).
	Exists(ctx context.Context, id, key string) (bool, error)
	// Evict removes key from session id.
	Evict(ctx context.Context, id, key string) error
	// EvictAll removes every key in one atomic step.
	EvictAll(ctx context.Context, id string, keys ...string) error
	// Clear with no retain list removes session id entirely, data and props.
	// With retain it removes every data key not named exactly in retain and
	// keeps the props.
	Clear(ctx context.Context, id string, retain ...string) error

	// SaveProp stores one prop of session id.
	SaveProp(ctx context.Context, id, key string, value any) error
	// LoadProp returns one prop, decoded untyped.
	LoadProp(ctx context.Context, id, key string) (any, error)
	// LoadPropInto decodes one prop into dst.
	LoadPropInto(ctx context.Context, id, key string, dst any) error
	// Props returns every prop of session id (getUserProps).
	Props(ctx context.Context, id string) (map[string]any, error)
	// EvictProp removes one prop and reports whether it existed.
	EvictProp(ctx context.Context, id, key string) (bool, error)

	// SetExpiry overrides the expiry of session id (ErrNotFound if missing)
	// and restarts its idle clock. The override lasts until the session is
	// cleared entirely, expires, or loses its last key and prop. Globals
	// never expire.
	SetExpiry(ctx context.Context, id string, e Expiry) error
	// TTL returns the time left before session id expires (NoExpiry if never).
	TTL(ctx context.Context, id string) (time.Duration, error)

	// SaveGlobal stores a global value, shared by all sessions.
	SaveGlobal(ctx context.Context, key string, value any) error
	// LoadGlobal returns a global, decoded untyped.
	LoadGlobal(ctx context.Context, key string) (any, error)
	// LoadGlobalInto decodes a global into dst.
	LoadGlobalInto(ctx context.Context, key string, dst any) error
	// EvictGlobal removes a global and reports whether it existed.
	EvictGlobal(ctx context.Context, key string) (bool, error)
	// Globals returns every global, decoded untyped.
	Globals(ctx context.Context) (map[string]any, error)

	// Store returns the byte-level store under the manager.
	Store() Store
	// Close closes the store. Idempotent.
	Close(ctx context.Context) error
}

// Config configures a Manager built by NewManager.
type Config struct {
	// Codec encodes values; JSON when nil.
	Codec Codec
	// MaxValueSize bounds one encoded value; DefaultMaxValueSize when 0.
	MaxValueSize int
}

// NewManager returns a Manager over store.
func NewManager(store Store, cfg Config) Manager {
	if cfg.Codec == nil {
		cfg.Codec = JSON{}
	}
	if cfg.MaxValueSize <= 0 {
		cfg.MaxValueSize = DefaultMaxValueSize
	}
	return &manager{store: store, cfg: cfg}
}

type manager struct {
	store Store
	cfg   Config
}

func (m *manager) Session(id string) Handle { return Handle{m: m, id: id} }
func (m *manager) Store() Store             { return m.store }
func (m *manager) Close(ctx context.Context) error {
	return m.store.Close(ctx)
}

func (m *manager) encode(v any) ([]byte, error) {
	b, err := m.cfg.Codec.Encode(v)
	if err != nil {
		return nil, fmt.Errorf("%w: encode %T: %v", ErrCodec, v, err)
	}
	if err := ValidateValue(b, m.cfg.MaxValueSize); err != nil {
		return nil, err
	}
	return b, nil
}

func (m *manager) decode(b []byte, dst any) error {
	if err := m.cfg.Codec.Decode(b, dst); err != nil {
		return fmt.Errorf("%w: decode into %T: %v", ErrCodec, dst, err)
	}
	return nil
}

func (m *manager) decodeAny(b []byte) (any, error) {
	var v any
	err := m.decode(b, &v)
	return v, err
}

func (m *manager) decodeMap(raw map[string][]byte) (map[string]any, error) {
	out := make(map[string]any, len(raw))
	for k, b := range raw {
		v, err := m.decodeAny(b)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

func (m *manager) Save(ctx context.Context, id, key string, value any) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	b, err := m.encode(value)
	if err != nil {
		return err
	}
	_, err = m.store.Save(ctx, id, Field{Key: key, Value: b})
	return err
}

func (m *manager) SaveAll(ctx context.Context, id string, values map[string]any) error {
	if len(values) == 0 {
		return ValidateID(id)
	}
	fields := make([]Field, 0, len(values))
	for k, v := range values {
		if err := ValidateKey(k); err != nil {
			return err
		}
		b, err := m.encode(v)
		if err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
		fields = append(fields, Field{Key: k, Value: b})
	}
	_, err := m.store.Save(ctx, id, fields...)
	return err
}

func (m *manager) Load(ctx context.Context, id, key string) (any, error) {
	b, err := m.store.Get(ctx, id, key)
	if err != nil {
		return nil, err
	}
	return m.decodeAny(b)
}

func (m *manager) LoadInto(ctx context.Context, id, key string, dst any) error {
	b, err := m.store.Get(ctx, id, key)
	if err != nil {
		return err
	}
	return m.decode(b, dst)
}

func (m *manager) FetchAll(ctx context.Context, id string) (map[string]any, error) {
	raw, err := m.store.GetAll(ctx, id)
	if err != nil {
		return nil, err
	}
	return m.decodeMap(raw)
}

func (m *manager) Exists(ctx context.Context, id, key string) (bool, error) {
	return m.store.Exists(ctx, id, key)
}

func (m *manager) Evict(ctx context.Context, id, key string) error {
	_, err := m.store.Evict(ctx, id, key)
	return err
}

func (m *manager) EvictAll(ctx context.Context, id string, keys ...string) error {
	if len(keys) == 0 {
		return ValidateID(id)
	}
	_, err := m.store.Evict(ctx, id, keys...)
	return err
}

func (m *manager) Clear(ctx context.Context, id string, retain ...string) error {
	_, err := m.store.Clear(ctx, id, retain...)
	return err
}

func (m *manager) SaveProp(ctx context.Context, id, key string, value any) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	b, err := m.encode(value)
	if err != nil {
		return err
	}
	return m.store.SaveProp(ctx, id, key, b)
}

func (m *manager) LoadProp(ctx context.Context, id, key string) (any, error) {
	b, err := m.store.GetProp(ctx, id, key)
	if err != nil {
		return nil, err
	}
	return m.decodeAny(b)
}

func (m *manager) LoadPropInto(ctx context.Context, id, key string, dst any) error {
	b, err := m.store.GetProp(ctx, id, key)
	if err != nil {
		return err
	}
	return m.decode(b, dst)
}

func (m *manager) Props(ctx context.Context, id string) (map[string]any, error) {
	raw, err := m.store.Props(ctx, id)
	if err != nil {
		return nil, err
	}
	return m.decodeMap(raw)
}

func (m *manager) EvictProp(ctx context.Context, id, key string) (bool, error) {
	return m.store.EvictProp(ctx, id, key)
}

func (m *manager) SetExpiry(ctx context.Context, id string, e Expiry) error {
	return m.store.SetExpiry(ctx, id, e)
}

func (m *manager) TTL(ctx context.Context, id string) (time.Duration, error) {
	return m.store.TTL(ctx, id)
}

func (m *manager) SaveGlobal(ctx context.Context, key string, value any) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	b, err := m.encode(value)
	if err != nil {
		return err
	}
	return m.store.SaveGlobal(ctx, key, b)
}

func (m *manager) LoadGlobal(ctx context.Context, key string) (any, error) {
	b, err := m.store.GetGlobal(ctx, key)
	if err != nil {
		return nil, err
	}
	return m.decodeAny(b)
}

func (m *manager) LoadGlobalInto(ctx context.Context, key string, dst any) error {
	b, err := m.store.GetGlobal(ctx, key)
	if err != nil {
		return err
	}
	return m.decode(b, dst)
}

func (m *manager) EvictGlobal(ctx context.Context, key string) (bool, error) {
	return m.store.EvictGlobal(ctx, key)
}

func (m *manager) Globals(ctx context.Context) (map[string]any, error) {
	raw, err := m.store.Globals(ctx)
	if err != nil {
		return nil, err
	}
	return m.decodeMap(raw)
}
