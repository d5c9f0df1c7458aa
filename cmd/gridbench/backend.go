package main

import (
	"context"

	"github.com/sessiongrid/sessiongrid/session"
)

// backend is what the workload drives: the calls a WCE engine makes on its
// session manager, at the byte level (the workload encodes JSON itself, the
// same bytes for every target). Missing values are session.ErrNotFound.
type backend interface {
	Get(ctx context.Context, id, key string) ([]byte, error)
	Save(ctx context.Context, id string, fields ...session.Field) error
	Exists(ctx context.Context, id, key string) (bool, error)
	Evict(ctx context.Context, id string, keys ...string) error
	Clear(ctx context.Context, id string) error
	GetProp(ctx context.Context, id, key string) ([]byte, error)
	SaveProp(ctx context.Context, id, key string, value []byte) error
}

// storeBackend drives a session.Store: the memory backend in-process, or
// gridnode through the remote client.
type storeBackend struct{ s session.Store }

func (b storeBackend) Get(ctx context.Context, id, key string) ([]byte, error) {
	return b.s.Get(ctx, id, key)
}

func (b storeBackend) Save(ctx context.Context, id string, fields ...session.Field) error {
	_, err := b.s.Save(ctx, id, fields...)
	return err
}

func (b storeBackend) Exists(ctx context.Context, id, key string) (bool, error) {
	return b.s.Exists(ctx, id, key)
}

func (b storeBackend) Evict(ctx context.Context, id string, keys ...string) error {
	_, err := b.s.Evict(ctx, id, keys...)
	return err
}

func (b storeBackend) Clear(ctx context.Context, id string) error {
	_, err := b.s.Clear(ctx, id)
	return err
}

func (b storeBackend) GetProp(ctx context.Context, id, key string) ([]byte, error) {
	return b.s.GetProp(ctx, id, key)
}

func (b storeBackend) SaveProp(ctx context.Context, id, key string, value []byte) error {
	return b.s.SaveProp(ctx, id, key, value)
}
