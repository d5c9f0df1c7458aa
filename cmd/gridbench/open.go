package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/client"
	"github.com/sessiongrid/sessiongrid/session"
	sredis "github.com/sessiongrid/sessiongrid/session/redis"
)

// target is an opened store: the backend the workload drives, the
// session.Store behind it for the store-backed kinds (preload and cleanup
// go through it), and for server kinds the plain RESP connection (admin)
// used to find the server's process, and for remote and redis to preload
// and clean up with pipelines.
type target struct {
	spec     targetSpec
	sessions int    // the population of this target
	settings string // the configuration measured, for the report
	local    *localStore
	fast     bool          // the local store is open with its fsyncs off, for the preload
	store    session.Store // every kind but redis
	backend  backend
	admin    *redis.Client // remote, redis, redisstore
	closers  []func(context.Context) error
}

// openTarget opens spec's store for a population of sessions, sized for
// o.Clients concurrent clients. A local store whose measured configuration
// fsyncs is opened without fsyncs when o.Preload is set; ready reopens it
// as configured once the preload is done.
func openTarget(ctx context.Context, spec targetSpec, o options, sessions int) (*target, error) {
	t := &target{spec: spec, sessions: sessions}
	if ls, err := newLocalStore(spec, o, sessions); err != nil {
		return nil, fmt.Errorf("%s: %w", spec.Label, err)
	} else if ls != nil {
		t.local, t.settings = ls, ls.settings
		if ls.temp != "" {
			t.closers = append(t.closers, func(context.Context) error { return removeTemp(ls.temp) })
		}
		t.closers = append(t.closers, t.closeStore)
		if err := t.openLocal(o.Preload && ls.fastPreload); err != nil {
			t.close(ctx)
			return nil, fmt.Errorf("%s: %w", spec.Label, err)
		}
		return t, nil
	}

	t.admin = redis.NewClient(&redis.Options{
		Network: network(spec.Addr), Addr: spec.Addr, Password: o.Password, Protocol: o.RESP,
		PoolSize: 8, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
		DialerRetries: 2, MaxRetries: 1,
	})
	t.closers = append(t.closers, func(context.Context) error { return t.admin.Close() })
	if err := t.admin.Ping(ctx).Err(); err != nil {
		t.close(ctx)
		return nil, fmt.Errorf("%s: %w", spec.Label, err)
	}
	server := t.serverInfo(ctx, "redis_version")
	if server != "" {
		server = " " + server
	}
	switch spec.Kind {
	case kindRemote:
		r, err := client.NewRemote(client.RemoteConfig{
			Addr: spec.Addr, Password: o.Password, Protocol: o.RESP,
			PoolSize: o.Clients, MinIdleConns: o.Clients,
			ReadTimeout: o.Timeout, WriteTimeout: o.Timeout,
			Logger: o.Logger,
		})
		if err != nil {
			t.close(ctx)
			return nil, err
		}
		t.store, t.backend = r, storeBackend{r}
		t.closers = append(t.closers, r.Close)
		t.settings = fmt.Sprintf("client.Remote (SESSION.* commands) on server%s; RESP%d; pool %d", server, o.RESP, o.Clients)
	case kindSmart:
		r, err := client.NewSmart(ctx, client.SmartConfig{RemoteConfig: client.RemoteConfig{
			Addr: spec.Addr, Password: o.Password, Protocol: o.RESP,
			PoolSize: o.Clients, ReadTimeout: o.Timeout, WriteTimeout: o.Timeout,
			Logger: o.Logger,
		}})
		if err != nil {
			t.close(ctx)
			return nil, fmt.Errorf("%s: %w", spec.Label, err)
		}
		t.store, t.backend = r, storeBackend{r}
		t.closers = append(t.closers, r.Close)
		t.settings = fmt.Sprintf("client.Smart (GRID.TABLE, each call to its owner) seeded by %s; RESP%d; pool %d per node", spec.Addr, o.RESP, o.Clients)
	case kindRedis:
		rdb := redis.NewClient(&redis.Options{
			Network: network(spec.Addr), Addr: spec.Addr, Password: o.Password, Protocol: o.RESP,
			PoolSize: o.Clients, MinIdleConns: o.Clients,
			ReadTimeout: o.Timeout, WriteTimeout: o.Timeout,
		})
		t.backend = redisBackend{rdb: rdb, idle: o.RedisIdle}
		t.closers = append(t.closers, func(context.Context) error { return rdb.Close() })
		expire := "no PEXPIRE"
		if o.RedisIdle > 0 {
			expire = fmt.Sprintf("PEXPIRE %v pipelined with every write", o.RedisIdle)
		}
		t.settings = fmt.Sprintf("plain go-redis HGET/HSET/HEXISTS/HDEL/DEL, %s, on server%s; RESP%d; pool %d", expire, server, o.RESP, o.Clients)
	case kindRedisStore:
		cfg := sredis.DefaultConfig()
		if spec.has(optGridnode) {
			cfg = sredis.DefaultGridnodeConfig()
		}
		cfg.Network, cfg.Addr, cfg.Password, cfg.Protocol = network(spec.Addr), spec.Addr, o.Password, o.RESP
		cfg.PoolSize, cfg.ReadTimeout, cfg.WriteTimeout, cfg.Logger = o.Clients, o.Timeout, o.Timeout, o.Logger
		st, err := sredis.New(cfg)
		if err != nil {
			t.close(ctx)
			return nil, fmt.Errorf("%s: %w", spec.Label, err)
		}
		t.store, t.backend = st, storeBackend{st}
		t.closers = append(t.closers, st.Close)
		idle := "the node's idle timeout"
		if cfg.Mode == sredis.ModeScript {
			idle = fmt.Sprintf("idle %v slid by every write script", cfg.DefaultIdle)
		}
		t.settings = fmt.Sprintf("session/redis Mode%s%s, prefix %q, %s, on server%s; RESP%d; pool %d",
			strings.ToUpper(cfg.Mode.String()[:1]), cfg.Mode.String()[1:], cfg.Prefix, idle, server, o.RESP, o.Clients)
	}
	return t, nil
}

// openLocal opens the local store, without its fsyncs when fast.
func (t *target) openLocal(fast bool) error {
	st, err := t.local.open(fast)
	if err != nil {
		return err
	}
	t.store, t.backend, t.fast = st, storeBackend{st}, fast
	return nil
}

// ready reopens a local store that was opened without fsyncs for the
// preload with its measured configuration.
func (t *target) ready(ctx context.Context) error {
	if !t.fast {
		return nil
	}
	if err := t.closeStore(ctx); err != nil {
		return err
	}
	return t.openLocal(false)
}

// closeStore closes the local store, if open.
func (t *target) closeStore(ctx context.Context) error {
	if t.store == nil {
		return nil
	}
	err := t.store.Close(ctx)
	t.store, t.backend = nil, nil
	return err
}

// close releases everything, last opened first.
func (t *target) close(ctx context.Context) error {
	var errs []error
	for i := len(t.closers) - 1; i >= 0; i-- {
		errs = append(errs, t.closers[i](ctx))
	}
	t.closers = nil
	return errors.Join(errs...)
}

// notes returns what the store says about itself after the run (local
// stores: sessions held, evictions, bytes on disk ...).
func (t *target) notes() []string {
	if t.local == nil || t.local.notes == nil || t.store == nil {
		return nil
	}
	return t.local.notes(t.store)
}

// serverInfo returns field name of INFO server ("name:value"), "" if
// unknown.
func (t *target) serverInfo(ctx context.Context, name string) string {
	if t.admin == nil {
		return ""
	}
	info, err := t.admin.Info(ctx, "server").Result()
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			if name == "redis_version" {
				return "redis_version " + v
			}
			return v
		}
	}
	return ""
}

// serverPID returns the server's process id from INFO server, 0 if unknown.
func (t *target) serverPID(ctx context.Context) int {
	pid, _ := strconv.Atoi(t.serverInfo(ctx, "process_id"))
	return pid
}
