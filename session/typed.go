package session

import "context"

// Get returns the value under key in session id decoded into a T.
func Get[T any](ctx context.Context, m Manager, id, key string) (T, error) {
	var v T
	err := m.LoadInto(ctx, id, key, &v)
	return v, err
}

// GetProp returns one prop of session id decoded into a T.
func GetProp[T any](ctx context.Context, m Manager, id, key string) (T, error) {
	var v T
	err := m.LoadPropInto(ctx, id, key, &v)
	return v, err
}

// GetGlobal returns a global decoded into a T.
func GetGlobal[T any](ctx context.Context, m Manager, key string) (T, error) {
	var v T
	err := m.LoadGlobalInto(ctx, key, &v)
	return v, err
}
