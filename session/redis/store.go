package redis

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/args"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// Store is the Redis session store. It implements session.Store. Create it
// with New; it is safe for concurrent use.
type Store struct {
	cfg    Config
	client *goredis.Client
	b      backend

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// backend is one Mode's way of running the contract's calls, each one round
// trip. Its arguments are already validated.
type backend interface {
	save(ctx context.Context, id string, fields []session.Field) (int, error)
	get(ctx context.Context, id, key string) ([]byte, error)
	getAll(ctx context.Context, id string) (map[string][]byte, error)
	exists(ctx context.Context, id, key string) (bool, error)
	evict(ctx context.Context, id string, keys []string) (int, error)
	clear(ctx context.Context, id string, retain []string) (bool, error)
	saveProp(ctx context.Context, id, key string, value []byte) error
	getProp(ctx context.Context, id, key string) ([]byte, error)
	props(ctx context.Context, id string) (map[string][]byte, error)
	evictProp(ctx context.Context, id, key string) (bool, error)
	setExpiry(ctx context.Context, id string, x session.Expiry) (bool, error)
	ttl(ctx context.Context, id string) (time.Duration, error)
	saveGlobal(ctx context.Context, key string, value []byte) error
	getGlobal(ctx context.Context, key string) ([]byte, error)
	evictGlobal(ctx context.Context, key string) (bool, error)
	globals(ctx context.Context) (map[string][]byte, error)
}

// New connects to the server and checks it answers (PING) within
// DialTimeout; it returns an error matching session.ErrUnavailable if not.
// go-redis starts no goroutine of its own for a plain client; Close
// releases the connections.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	client := goredis.NewClient(&goredis.Options{
		Network:               cfg.Network,
		Addr:                  cfg.Addr,
		Username:              cfg.Username,
		Password:              cfg.Password,
		DB:                    cfg.DB,
		Protocol:              cfg.Protocol,
		PoolSize:              cfg.PoolSize,
		DialTimeout:           cfg.DialTimeout,
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          cfg.WriteTimeout,
		ContextTimeoutEnabled: true,
		// No silent retries: a write whose reply was lost may have been
		// applied, and a retry would then report wrong counts (added,
		// removed, existed). A failed call returns ErrUnavailable instead
		// and the caller decides. Dialling is still retried (never sent).
		MaxRetries: -1,
		// Neither redis-server 7.0 nor gridnode sends maintenance pushes.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	s := &Store{cfg: cfg, client: client}
	switch cfg.Mode {
	case ModeGridnode:
		s.b = &gridnode{c: client, prefix: cfg.Prefix}
	default:
		idle := int64(-1)
		if cfg.DefaultIdle > 0 {
			idle = millis(cfg.DefaultIdle)
		}
		s.b = &scripted{
			c:      client,
			prefix: cfg.Prefix,
			gkey:   cfg.Prefix + "g",
			idle:   idle,
			touch:  cfg.TouchOnRead,
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.DialTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, mapErr(fmt.Sprintf("connect to %s %s", cfg.Network, cfg.Addr), err)
	}
	if cfg.Mode == ModeScript {
		if err := loadScripts(ctx, client); err != nil {
			_ = client.Close()
			return nil, fmt.Errorf("redis: %s %s: %w", cfg.Network, cfg.Addr, err)
		}
	}
	cfg.Logger.Debug("redis session store connected", "network", cfg.Network, "addr", cfg.Addr, "mode", cfg.Mode.String())
	return s, nil
}

func (s *Store) check(id string) error {
	if s.closed.Load() {
		return session.ErrClosed
	}
	return session.ValidateID(id)
}

func (s *Store) checkKey(id, key string) error {
	if err := s.check(id); err != nil {
		return err
	}
	return session.ValidateKey(key)
}

func (s *Store) checkGlobal(key string) error {
	if s.closed.Load() {
		return session.ErrClosed
	}
	return session.ValidateKey(key)
}

// Save implements session.Store.
func (s *Store) Save(ctx context.Context, id string, fields ...session.Field) (int, error) {
	if err := s.check(id); err != nil {
		return 0, err
	}
	if err := args.Fields(fields, s.cfg.MaxValueSize); err != nil {
		return 0, err
	}
	if len(fields) == 0 {
		return 0, nil
	}
	return s.b.save(ctx, id, fields)
}

// Get implements session.Store.
func (s *Store) Get(ctx context.Context, id, key string) ([]byte, error) {
	if err := s.checkKey(id, key); err != nil {
		return nil, err
	}
	return s.b.get(ctx, id, key)
}

// GetAll implements session.Store.
func (s *Store) GetAll(ctx context.Context, id string) (map[string][]byte, error) {
	if err := s.check(id); err != nil {
		return nil, err
	}
	return s.b.getAll(ctx, id)
}

// Exists implements session.Store.
func (s *Store) Exists(ctx context.Context, id, key string) (bool, error) {
	if err := s.checkKey(id, key); err != nil {
		return false, err
	}
	return s.b.exists(ctx, id, key)
}

// Evict implements session.Store.
func (s *Store) Evict(ctx context.Context, id string, keys ...string) (int, error) {
	if err := s.check(id); err != nil {
		return 0, err
	}
	if err := args.Keys(keys); err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		return 0, nil
	}
	return s.b.evict(ctx, id, keys)
}

// Clear implements session.Store.
func (s *Store) Clear(ctx context.Context, id string, retain ...string) (bool, error) {
	if err := s.check(id); err != nil {
		return false, err
	}
	return s.b.clear(ctx, id, retain)
}

// SaveProp implements session.Store.
func (s *Store) SaveProp(ctx context.Context, id, key string, value []byte) error {
	if err := s.checkKey(id, key); err != nil {
		return err
	}
	if err := session.ValidateValue(value, s.cfg.MaxValueSize); err != nil {
		return err
	}
	return s.b.saveProp(ctx, id, key, value)
}

// GetProp implements session.Store.
func (s *Store) GetProp(ctx context.Context, id, key string) ([]byte, error) {
	if err := s.checkKey(id, key); err != nil {
		return nil, err
	}
	return s.b.getProp(ctx, id, key)
}

// Props implements session.Store.
func (s *Store) Props(ctx context.Context, id string) (map[string][]byte, error) {
	if err := s.check(id); err != nil {
		return nil, err
	}
	return s.b.props(ctx, id)
}

// EvictProp implements session.Store.
func (s *Store) EvictProp(ctx context.Context, id, key string) (bool, error) {
	if err := s.checkKey(id, key); err != nil {
		return false, err
	}
	return s.b.evictProp(ctx, id, key)
}

// SetExpiry implements session.Store.
func (s *Store) SetExpiry(ctx context.Context, id string, x session.Expiry) error {
	if err := s.check(id); err != nil {
		return err
	}
	ok, err := s.b.setExpiry(ctx, id, x)
	if err != nil {
		return err
	}
	if !ok {
		return record.NotFound(id, "")
	}
	return nil
}

// TTL implements session.Store. Redis counts milliseconds.
func (s *Store) TTL(ctx context.Context, id string) (time.Duration, error) {
	if err := s.check(id); err != nil {
		return 0, err
	}
	return s.b.ttl(ctx, id)
}

// SaveGlobal implements session.Store.
func (s *Store) SaveGlobal(ctx context.Context, key string, value []byte) error {
	if err := s.checkGlobal(key); err != nil {
		return err
	}
	if err := session.ValidateValue(value, s.cfg.MaxValueSize); err != nil {
		return err
	}
	return s.b.saveGlobal(ctx, key, value)
}

// GetGlobal implements session.Store.
func (s *Store) GetGlobal(ctx context.Context, key string) ([]byte, error) {
	if err := s.checkGlobal(key); err != nil {
		return nil, err
	}
	return s.b.getGlobal(ctx, key)
}

// EvictGlobal implements session.Store.
func (s *Store) EvictGlobal(ctx context.Context, key string) (bool, error) {
	if err := s.checkGlobal(key); err != nil {
		return false, err
	}
	return s.b.evictGlobal(ctx, key)
}

// Globals implements session.Store.
func (s *Store) Globals(ctx context.Context) (map[string][]byte, error) {
	if s.closed.Load() {
		return nil, session.ErrClosed
	}
	return s.b.globals(ctx)
}

// Close implements session.Store: it closes the connections. The data stays
// on the server. It is idempotent.
func (s *Store) Close(context.Context) error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if err := s.client.Close(); err != nil {
			s.closeErr = fmt.Errorf("redis: close: %w", err)
		}
	})
	return s.closeErr
}

// pttl converts a PTTL reply.
func pttl(id string, d time.Duration, err error) (time.Duration, error) {
	if err != nil {
		return 0, mapErr("PTTL", err)
	}
	// go-redis returns the replies -2 (missing) and -1 (no expiry) as
	// those many nanoseconds, and remaining milliseconds as durations.
	switch d {
	case -2:
		return 0, record.NotFound(id, "")
	case -1:
		return session.NoExpiry, nil
	}
	return d, nil
}
