package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/sessiongrid/sessiongrid/session"
)

// Remote is a session.Store served by gridnode over RESP. It is safe for
// concurrent use; create it with NewRemote and release it with Close.
type Remote struct {
	cfg RemoteConfig
	rdb *redis.Client

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	watches watches // Watch subscriptions, ended by Close
}

var _ session.Store = (*Remote)(nil)

// NewRemote returns a Remote for the gridnodes in cfg. It does not contact
// them: connections are opened on first use (call Ping to check the
// address and credentials at start).
func NewRemote(cfg RemoteConfig) (*Remote, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	d := &dialer{addrs: cfg.Addrs, tls: cfg.TLSConfig}
	opt := &redis.Options{
		Addr:            cfg.Addr,
		Dialer:          d.dial,
		Username:        cfg.Username,
		Password:        cfg.Password,
		ClientName:      cfg.ClientName,
		Protocol:        cfg.Protocol,
		PoolSize:        cfg.PoolSize,
		MinIdleConns:    cfg.MinIdleConns,
		PoolTimeout:     cfg.PoolTimeout,
		DialTimeout:     cfg.DialTimeout,
		ReadTimeout:     cfg.ReadTimeout,
		WriteTimeout:    cfg.WriteTimeout,
		DialerRetries:   1, // one dial per attempt; Remote retries with backoff
		MaxRetries:      -1,
		MinRetryBackoff: -1,
		MaxRetryBackoff: -1,
		// Honour ctx deadlines on the socket, not only the fixed timeouts.
		ContextTimeoutEnabled: true,
		// gridnode sends no maintenance pushes; skip the handshake for them.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
	return &Remote{cfg: cfg, rdb: redis.NewClient(opt)}, nil
}

// Ping checks that a gridnode answers (and accepts the credentials).
func (r *Remote) Ping(ctx context.Context) error {
	return mapError(ctx, "PING", r.run(ctx, true, redis.NewStatusCmd(ctx, "ping")))
}

// run sends cmd, retrying as the package documentation says, and returns
// the raw go-redis error (nil, redis.Nil, a reply or a transport error).
// read says whether cmd is a read, which may be retried after any
// transport error.
func (r *Remote) run(ctx context.Context, read bool, cmd redis.Cmder) error {
	if r.closed.Load() {
		return redis.ErrClosed
	}
	for attempt := 0; ; attempt++ {
		err := r.rdb.Process(ctx, cmd)
		if err == nil || attempt >= r.cfg.MaxRetries || r.closed.Load() {
			return err
		}
		if !neverSent(err) && !(read && transient(ctx, err)) {
			return err
		}
		wait := r.backoff(attempt)
		r.cfg.Logger.Debug("client: retrying", "cmd", cmd.Name(), "attempt", attempt+1, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// backoff returns the jittered wait before retry attempt+1.
func (r *Remote) backoff(attempt int) time.Duration {
	d := r.cfg.MinRetryBackoff << min(attempt, 20)
	if d <= 0 || d > r.cfg.MaxRetryBackoff {
		d = r.cfg.MaxRetryBackoff
	}
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}

// checkValue validates a value against the configured limit.
func (r *Remote) checkValue(v []byte) error {
	return session.ValidateValue(v, r.cfg.MaxValueSize)
}

// validate checks a session id and keys before anything is sent.
func validate(id string, keys ...string) error {
	if err := session.ValidateID(id); err != nil {
		return err
	}
	for _, k := range keys {
		if err := session.ValidateKey(k); err != nil {
			return err
		}
	}
	return nil
}

func notFound(what, id, key string) error {
	return fmt.Errorf("%w: %s %q in session %q", session.ErrNotFound, what, trunc(key), trunc(id))
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// Save implements session.Store with HSET id k v [k v ...].
func (r *Remote) Save(ctx context.Context, id string, fields ...session.Field) (int, error) {
	if err := session.ValidateID(id); err != nil {
		return 0, err
	}
	args := make([]any, 0, 2+2*len(fields))
	args = append(args, "hset", id)
	for _, f := range fields {
		if err := session.ValidateKey(f.Key); err != nil {
			return 0, err
		}
		if err := r.checkValue(f.Value); err != nil {
			return 0, err
		}
		args = append(args, f.Key, f.Value)
	}
	if len(fields) == 0 {
		return 0, r.closedErr()
	}
	cmd := redis.NewIntCmd(ctx, args...)
	if err := r.run(ctx, false, cmd); err != nil {
		return 0, mapError(ctx, "HSET", err)
	}
	return int(cmd.Val()), nil
}

// closedErr returns ErrClosed after Close, for calls that send nothing.
func (r *Remote) closedErr() error {
	if r.closed.Load() {
		return session.ErrClosed
	}
	return nil
}

// Get implements session.Store with HGET.
func (r *Remote) Get(ctx context.Context, id, key string) ([]byte, error) {
	if err := validate(id, key); err != nil {
		return nil, err
	}
	return r.getBytes(ctx, "data key", id, key, "hget", id, key)
}

// getBytes runs a read whose reply is a bulk string or nil.
func (r *Remote) getBytes(ctx context.Context, what, id, key string, args ...any) ([]byte, error) {
	cmd := redis.NewStringCmd(ctx, args...)
	err := r.run(ctx, true, cmd)
	switch {
	case errors.Is(err, redis.Nil):
		return nil, notFound(what, id, key)
	case err != nil:
		return nil, mapError(ctx, cmd.Name(), err)
	}
	return []byte(cmd.Val()), nil
}

// getMap runs a read whose reply is a map (RESP3) or a flat array (RESP2).
func (r *Remote) getMap(ctx context.Context, args ...any) (map[string][]byte, error) {
	cmd := redis.NewMapStringStringCmd(ctx, args...)
	if err := r.run(ctx, true, cmd); err != nil {
		return nil, mapError(ctx, cmd.Name(), err)
	}
	out := make(map[string][]byte, len(cmd.Val()))
	for k, v := range cmd.Val() {
		out[k] = []byte(v)
	}
	return out, nil
}

// count runs a command whose reply is an integer.
func (r *Remote) count(ctx context.Context, read bool, args ...any) (int64, error) {
	cmd := redis.NewIntCmd(ctx, args...)
	if err := r.run(ctx, read, cmd); err != nil {
		return 0, mapError(ctx, cmd.Name(), err)
	}
	return cmd.Val(), nil
}

// ok runs a write whose reply is +OK.
func (r *Remote) ok(ctx context.Context, args ...any) error {
	cmd := redis.NewStatusCmd(ctx, args...)
	if err := r.run(ctx, false, cmd); err != nil {
		return mapError(ctx, cmd.Name(), err)
	}
	return nil
}

// GetAll implements session.Store with HGETALL.
func (r *Remote) GetAll(ctx context.Context, id string) (map[string][]byte, error) {
	if err := validate(id); err != nil {
		return nil, err
	}
	return r.getMap(ctx, "hgetall", id)
}

// Exists implements session.Store with HEXISTS.
func (r *Remote) Exists(ctx context.Context, id, key string) (bool, error) {
	if err := validate(id, key); err != nil {
		return false, err
	}
	n, err := r.count(ctx, true, "hexists", id, key)
	return n == 1, err
}

// Evict implements session.Store with HDEL id k [k ...].
func (r *Remote) Evict(ctx context.Context, id string, keys ...string) (int, error) {
	if err := validate(id, keys...); err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		return 0, r.closedErr()
	}
	args := make([]any, 0, 2+len(keys))
	args = append(args, "hdel", id)
	for _, k := range keys {
		args = append(args, k)
	}
	n, err := r.count(ctx, false, args...)
	return int(n), err
}

// Clear implements session.Store with SESSION.CLEAR id [RETAIN k ...].
func (r *Remote) Clear(ctx context.Context, id string, retain ...string) (bool, error) {
	if err := validate(id); err != nil {
		return false, err
	}
	args := make([]any, 0, 3+len(retain))
	args = append(args, "session.clear", id)
	if len(retain) > 0 {
		args = append(args, "retain")
		for _, k := range retain {
			args = append(args, k)
		}
	}
	n, err := r.count(ctx, false, args...)
	return n == 1, err
}

// SaveProp implements session.Store with SESSION.PROPSET.
func (r *Remote) SaveProp(ctx context.Context, id, key string, value []byte) error {
	if err := validate(id, key); err != nil {
		return err
	}
	if err := r.checkValue(value); err != nil {
		return err
	}
	return r.ok(ctx, "session.propset", id, key, value)
}

// GetProp implements session.Store with SESSION.PROPGET.
func (r *Remote) GetProp(ctx context.Context, id, key string) ([]byte, error) {
	if err := validate(id, key); err != nil {
		return nil, err
	}
	return r.getBytes(ctx, "prop", id, key, "session.propget", id, key)
}

// Props implements session.Store with SESSION.PROPS.
func (r *Remote) Props(ctx context.Context, id string) (map[string][]byte, error) {
	if err := validate(id); err != nil {
		return nil, err
	}
	return r.getMap(ctx, "session.props", id)
}

// EvictProp implements session.Store with SESSION.PROPDEL.
func (r *Remote) EvictProp(ctx context.Context, id, key string) (bool, error) {
	if err := validate(id, key); err != nil {
		return false, err
	}
	n, err := r.count(ctx, false, "session.propdel", id, key)
	return n == 1, err
}

// SetExpiry implements session.Store with SESSION.EXPIRY id idle-ms ttl-ms.
// Durations are sent in whole milliseconds, a positive duration under one
// millisecond as 1 ms.
func (r *Remote) SetExpiry(ctx context.Context, id string, e session.Expiry) error {
	if err := validate(id); err != nil {
		return err
	}
	idle := int64(0)
	switch {
	case e.Idle < 0:
		idle = -1
	case e.Idle > 0:
		idle = ceilMillis(e.Idle)
	}
	ttl := int64(0)
	if e.TTL > 0 {
		ttl = ceilMillis(e.TTL)
	}
	n, err := r.count(ctx, false, "session.expiry", id, strconv.FormatInt(idle, 10), strconv.FormatInt(ttl, 10))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: session %q", session.ErrNotFound, trunc(id))
	}
	return nil
}

func ceilMillis(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// TTL implements session.Store with PTTL: -2 is ErrNotFound, -1 NoExpiry.
func (r *Remote) TTL(ctx context.Context, id string) (time.Duration, error) {
	if err := validate(id); err != nil {
		return 0, err
	}
	ms, err := r.count(ctx, true, "pttl", id)
	switch {
	case err != nil:
		return 0, err
	case ms == -2:
		return 0, fmt.Errorf("%w: session %q", session.ErrNotFound, trunc(id))
	case ms < 0:
		return session.NoExpiry, nil
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// SaveGlobal implements session.Store with GLOBAL.SET.
func (r *Remote) SaveGlobal(ctx context.Context, key string, value []byte) error {
	if err := session.ValidateKey(key); err != nil {
		return err
	}
	if err := r.checkValue(value); err != nil {
		return err
	}
	return r.ok(ctx, "global.set", key, value)
}

// GetGlobal implements session.Store with GLOBAL.GET.
func (r *Remote) GetGlobal(ctx context.Context, key string) ([]byte, error) {
	if err := session.ValidateKey(key); err != nil {
		return nil, err
	}
	cmd := redis.NewStringCmd(ctx, "global.get", key)
	err := r.run(ctx, true, cmd)
	switch {
	case errors.Is(err, redis.Nil):
		return nil, fmt.Errorf("%w: global %q", session.ErrNotFound, trunc(key))
	case err != nil:
		return nil, mapError(ctx, "global.get", err)
	}
	return []byte(cmd.Val()), nil
}

// EvictGlobal implements session.Store with GLOBAL.DEL.
func (r *Remote) EvictGlobal(ctx context.Context, key string) (bool, error) {
	if err := session.ValidateKey(key); err != nil {
		return false, err
	}
	n, err := r.count(ctx, false, "global.del", key)
	return n == 1, err
}

// Globals implements session.Store with GLOBAL.ALL.
func (r *Remote) Globals(ctx context.Context) (map[string][]byte, error) {
	return r.getMap(ctx, "global.all")
}

// Close implements session.Store: it closes every pooled connection. Calls
// in flight fail with ErrClosed or ErrUnavailable; later calls return
// ErrClosed. It is idempotent.
func (r *Remote) Close(ctx context.Context) error {
	r.closeOnce.Do(func() {
		r.closed.Store(true)
		r.cancelWatches()
		r.closeErr = r.rdb.Close()
		r.cfg.Logger.Debug("client: closed", "addrs", r.cfg.Addrs)
	})
	return r.closeErr
}
