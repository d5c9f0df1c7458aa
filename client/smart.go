package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/partition"
	"github.com/sessiongrid/sessiongrid/session"
)

// SmartConfig configures a Smart client. The RemoteConfig's Addr and Addrs
// are seeds: any gridnode of the grid. With a TLSConfig, the seeds are
// dialed over TLS and so are the owners, at the TLS client addresses the
// members advertise (gridnode --tls-port); a partition whose owner has no
// TLS port is served through the seeds, which forward.
type SmartConfig struct {
	RemoteConfig
	// Refresh is how often the partition table is fetched again (it is
	// also fetched at once when an owner cannot be reached); 1 s when 0.
	Refresh time.Duration
}

// routes is the client's copy of the table: the client address of each
// partition's owner.
type routes struct {
	epoch  int64
	owners []string
}

// Smart is a partition-aware remote client: it fetches the partition table
// from any node (GRID.TABLE) and sends each call straight to the owner of
// the session's partition, saving the hop a non-owner would forward. When
// its table is stale the node it reaches forwards the call, so answers are
// always right; the table is refreshed periodically and whenever an owner
// is unreachable, and calls fall back to the seeds meanwhile.
type Smart struct {
	cfg   SmartConfig
	seeds *Remote

	mu      sync.Mutex // guards clients
	clients map[string]*Remote

	table   atomic.Pointer[routes]
	refresh chan struct{}
	stop    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

var _ session.Store = (*Smart)(nil)

// NewSmart connects to the seeds, fetches the table, and starts the
// refresher that Close stops.
func NewSmart(ctx context.Context, cfg SmartConfig) (*Smart, error) {
	seeds, err := NewRemote(cfg.RemoteConfig)
	if err != nil {
		return nil, err
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = time.Second
	}
	s := &Smart{cfg: cfg, seeds: seeds, clients: map[string]*Remote{},
		refresh: make(chan struct{}, 1), stop: make(chan struct{})}
	s.table.Store(&routes{})
	if err := s.fetch(ctx); err != nil {
		seeds.Close(ctx)
		return nil, err
	}
	s.wg.Add(1)
	go s.loop()
	return s, nil
}

func (s *Smart) loop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.Refresh)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.refresh:
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Refresh)
		if err := s.fetch(ctx); err != nil {
			s.seeds.cfg.Logger.Debug("smart client: table refresh failed", "err", err)
		}
		cancel()
	}
}

// fetch reads GRID.TABLE from a seed: [epoch, [owner address per partition]],
// the owners' TLS addresses (GRID.TABLE TLS) when the client speaks TLS.
func (s *Smart) fetch(ctx context.Context) error {
	args := []any{"GRID.TABLE"}
	if s.cfg.TLSConfig != nil {
		args = append(args, "TLS")
	}
	v, err := s.seeds.rdb.Do(ctx, args...).Slice()
	var rerr redis.Error
	if errors.As(err, &rerr) {
		// An error reply: the seed answered but refuses the command (not
		// in a grid, or too old to know GRID.TABLE TLS).
		return fmt.Errorf("client: %v: %w", args, err)
	}
	if err != nil {
		return fmt.Errorf("%w: GRID.TABLE: %w", session.ErrUnavailable, err)
	}
	if len(v) != 2 {
		return fmt.Errorf("client: GRID.TABLE reply of %d items", len(v))
	}
	epoch, ok1 := v[0].(int64)
	list, ok2 := v[1].([]any)
	if !ok1 || !ok2 {
		return errors.New("client: malformed GRID.TABLE reply")
	}
	owners := make([]string, len(list))
	for i, o := range list {
		owners[i], _ = o.(string)
	}
	if cur := s.table.Load(); epoch >= cur.epoch {
		s.table.Store(&routes{epoch: epoch, owners: owners})
	}
	return nil
}

// Epoch returns the epoch of the client's copy of the table.
func (s *Smart) Epoch() int64 { return s.table.Load().epoch }

// pick returns the client of key's owner, or the seeds.
func (s *Smart) pick(key string) *Remote {
	t := s.table.Load()
	if len(t.owners) == 0 {
		return s.seeds
	}
	addr := t.owners[partition.ID(key, len(t.owners))]
	if addr == "" {
		return s.seeds
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clients[addr]
	if c == nil {
		cfg := s.cfg.RemoteConfig
		cfg.Addr, cfg.Addrs = addr, nil
		var err error
		if c, err = NewRemote(cfg); err != nil {
			return s.seeds
		}
		s.clients[addr] = c
	}
	return c
}

// do runs fn on key's owner. A read that could not reach the owner is
// retried on the seeds (which forward); a write is not, since it may have
// been applied.
func do[T any](s *Smart, key string, read bool, fn func(r *Remote) (T, error)) (T, error) {
	r := s.pick(key)
	v, err := fn(r)
	if err != nil && errors.Is(err, session.ErrUnavailable) && r != s.seeds {
		select {
		case s.refresh <- struct{}{}:
		default:
		}
		if read {
			return fn(s.seeds)
		}
	}
	return v, err
}

// Save implements session.Store.
func (s *Smart) Save(ctx context.Context, id string, fields ...session.Field) (int, error) {
	return do(s, id, false, func(r *Remote) (int, error) { return r.Save(ctx, id, fields...) })
}

// Get implements session.Store.
func (s *Smart) Get(ctx context.Context, id, key string) ([]byte, error) {
	return do(s, id, true, func(r *Remote) ([]byte, error) { return r.Get(ctx, id, key) })
}

// GetAll implements session.Store.
func (s *Smart) GetAll(ctx context.Context, id string) (map[string][]byte, error) {
	return do(s, id, true, func(r *Remote) (map[string][]byte, error) { return r.GetAll(ctx, id) })
}

// Exists implements session.Store.
func (s *Smart) Exists(ctx context.Context, id, key string) (bool, error) {
	return do(s, id, true, func(r *Remote) (bool, error) { return r.Exists(ctx, id, key) })
}

// Evict implements session.Store.
func (s *Smart) Evict(ctx context.Context, id string, keys ...string) (int, error) {
	return do(s, id, false, func(r *Remote) (int, error) { return r.Evict(ctx, id, keys...) })
}

// Clear implements session.Store.
func (s *Smart) Clear(ctx context.Context, id string, retain ...string) (bool, error) {
	return do(s, id, false, func(r *Remote) (bool, error) { return r.Clear(ctx, id, retain...) })
}

// SaveProp implements session.Store.
func (s *Smart) SaveProp(ctx context.Context, id, key string, value []byte) error {
	_, err := do(s, id, false, func(r *Remote) (struct{}, error) { return struct{}{}, r.SaveProp(ctx, id, key, value) })
	return err
}

// GetProp implements session.Store.
func (s *Smart) GetProp(ctx context.Context, id, key string) ([]byte, error) {
	return do(s, id, true, func(r *Remote) ([]byte, error) { return r.GetProp(ctx, id, key) })
}

// Props implements session.Store.
func (s *Smart) Props(ctx context.Context, id string) (map[string][]byte, error) {
	return do(s, id, true, func(r *Remote) (map[string][]byte, error) { return r.Props(ctx, id) })
}

// EvictProp implements session.Store.
func (s *Smart) EvictProp(ctx context.Context, id, key string) (bool, error) {
	return do(s, id, false, func(r *Remote) (bool, error) { return r.EvictProp(ctx, id, key) })
}

// SetExpiry implements session.Store.
func (s *Smart) SetExpiry(ctx context.Context, id string, e session.Expiry) error {
	_, err := do(s, id, false, func(r *Remote) (struct{}, error) { return struct{}{}, r.SetExpiry(ctx, id, e) })
	return err
}

// TTL implements session.Store.
func (s *Smart) TTL(ctx context.Context, id string) (time.Duration, error) {
	return do(s, id, true, func(r *Remote) (time.Duration, error) { return r.TTL(ctx, id) })
}

// SaveGlobal implements session.Store (globals go to any node: Raft).
func (s *Smart) SaveGlobal(ctx context.Context, key string, value []byte) error {
	return s.seeds.SaveGlobal(ctx, key, value)
}

// GetGlobal implements session.Store.
func (s *Smart) GetGlobal(ctx context.Context, key string) ([]byte, error) {
	return s.seeds.GetGlobal(ctx, key)
}

// EvictGlobal implements session.Store.
func (s *Smart) EvictGlobal(ctx context.Context, key string) (bool, error) {
	return s.seeds.EvictGlobal(ctx, key)
}

// Globals implements session.Store.
func (s *Smart) Globals(ctx context.Context) (map[string][]byte, error) {
	return s.seeds.Globals(ctx)
}

// Close stops the refresher and closes every connection. Idempotent.
func (s *Smart) Close(ctx context.Context) error {
	var errs []error
	s.once.Do(func() {
		close(s.stop)
		s.wg.Wait()
		s.mu.Lock()
		for _, c := range s.clients {
			errs = append(errs, c.Close(ctx))
		}
		s.mu.Unlock()
		errs = append(errs, s.seeds.Close(ctx))
	})
	return errors.Join(errs...)
}
