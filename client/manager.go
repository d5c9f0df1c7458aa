package client

import (
	"context"
	"fmt"

	"github.com/sessiongrid/sessiongrid/session"
)

// DialManager returns a session.Manager (JSON codec) over a Remote for cfg,
// after checking with a PING that a gridnode answers and accepts the
// credentials, so that a wrong address or password fails at start. Use
// NewRemote and session.NewManager for another codec or a lazy start.
func DialManager(ctx context.Context, cfg RemoteConfig) (session.Manager, error) {
	r, err := NewRemote(cfg)
	if err != nil {
		return nil, err
	}
	if err := r.Ping(ctx); err != nil {
		_ = r.Close(ctx)
		return nil, fmt.Errorf("client: dial %v: %w", r.cfg.Addrs, err)
	}
	return session.NewManager(r, session.Config{MaxValueSize: r.cfg.MaxValueSize}), nil
}
