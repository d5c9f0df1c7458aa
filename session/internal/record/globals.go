package record

import (
	"context"
	"fmt"

	"github.com/sessiongrid/sessiongrid/session"
)

// The global methods of session.Store (SaveGlobal, GetGlobal, EvictGlobal,
// Globals): each checks its arguments, enters the store's Gate and runs
// one of the store's global functions (Backend.PutGlobal, FindGlobal,
// DeleteGlobal, AllGlobals).

// checkGlobal fails fast on a closed store or an invalid key.
func (o *Sessions) checkGlobal(key string) error {
	if o.b.Gate.Closing() {
		return session.ErrClosed
	}
	return session.ValidateKey(key)
}

// SaveGlobal implements session.Store.
func (o *Sessions) SaveGlobal(ctx context.Context, key string, value []byte) error {
	if err := o.checkGlobal(key); err != nil {
		return err
	}
	if err := o.checkValue(value); err != nil {
		return err
	}
	if err := o.b.Gate.Enter(ctx); err != nil {
		return err
	}
	defer o.b.Gate.Leave()
	return o.b.PutGlobal(key, value)
}

// GetGlobal implements session.Store.
func (o *Sessions) GetGlobal(ctx context.Context, key string) ([]byte, error) {
	if err := o.checkGlobal(key); err != nil {
		return nil, err
	}
	if err := o.b.Gate.Enter(ctx); err != nil {
		return nil, err
	}
	defer o.b.Gate.Leave()
	v, found, err := o.b.FindGlobal(key)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: global %q", session.ErrNotFound, Truncate(key))
	}
	return v, nil
}

// EvictGlobal implements session.Store.
func (o *Sessions) EvictGlobal(ctx context.Context, key string) (bool, error) {
	if err := o.checkGlobal(key); err != nil {
		return false, err
	}
	if err := o.b.Gate.Enter(ctx); err != nil {
		return false, err
	}
	defer o.b.Gate.Leave()
	return o.b.DeleteGlobal(key)
}

// Globals implements session.Store.
func (o *Sessions) Globals(ctx context.Context) (map[string][]byte, error) {
	if o.b.Gate.Closing() {
		return nil, session.ErrClosed
	}
	if err := o.b.Gate.Enter(ctx); err != nil {
		return nil, err
	}
	defer o.b.Gate.Leave()
	return o.b.AllGlobals()
}
