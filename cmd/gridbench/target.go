package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/client"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// Kinds of targets.
const (
	kindMemory = "memory" // the in-process memory backend
	kindRemote = "remote" // gridnode through client.Remote (session commands)
	kindRedis  = "redis"  // any RESP server through plain hash commands
)

// targetSpec names one store to run the workload against.
type targetSpec struct {
	Kind  string
	Addr  string
	Label string
}

// parseTargets parses "memory,remote=host:port,redis=host:port".
func parseTargets(s string) ([]targetSpec, error) {
	var out []targetSpec
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		kind, addr, _ := strings.Cut(part, "=")
		spec, err := newTargetSpec(kind, addr)
		if err != nil {
			return nil, err
		}
		out = append(out, spec)
	}
	if len(out) == 0 {
		return nil, errors.New("no target given")
	}
	return out, nil
}

func newTargetSpec(kind, addr string) (targetSpec, error) {
	switch kind {
	case kindMemory:
		if addr != "" {
			return targetSpec{}, fmt.Errorf("target memory takes no address, got %q", addr)
		}
		return targetSpec{Kind: kind, Label: kind}, nil
	case kindRemote, kindRedis:
		if addr == "" {
			return targetSpec{}, fmt.Errorf("target %s needs an address: %s=host:port", kind, kind)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return targetSpec{}, fmt.Errorf("target %s: address %q: %w", kind, addr, err)
		}
		return targetSpec{Kind: kind, Addr: addr, Label: kind + "@" + addr}, nil
	}
	return targetSpec{}, fmt.Errorf("unknown target %q: want memory, remote or redis", kind)
}

// target is an opened store: the backend the workload drives, plus the
// plain RESP connection (admin) used to preload, clean up and find the
// server's process.
type target struct {
	spec    targetSpec
	backend backend
	mem     *memory.Store // kindMemory
	admin   *redis.Client // kindRemote, kindRedis
	closers []func(context.Context) error
}

// openTarget connects to spec's store, sized for clients connections.
func openTarget(ctx context.Context, spec targetSpec, o options) (*target, error) {
	t := &target{spec: spec}
	switch spec.Kind {
	case kindMemory:
		st, err := memory.New(memory.Config{})
		if err != nil {
			return nil, err
		}
		t.mem, t.backend = st, storeBackend{st}
		t.closers = append(t.closers, st.Close)
		return t, nil
	case kindRemote, kindRedis:
		t.admin = redis.NewClient(&redis.Options{
			Addr: spec.Addr, Password: o.Password, Protocol: o.RESP,
			PoolSize: 8, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
			DialerRetries: 2, MaxRetries: 1,
		})
		t.closers = append(t.closers, func(context.Context) error { return t.admin.Close() })
		if err := t.admin.Ping(ctx).Err(); err != nil {
			t.close(ctx)
			return nil, fmt.Errorf("%s: %w", spec.Label, err)
		}
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
		t.backend = storeBackend{r}
		t.closers = append(t.closers, r.Close)
	case kindRedis:
		rdb := redis.NewClient(&redis.Options{
			Addr: spec.Addr, Password: o.Password, Protocol: o.RESP,
			PoolSize: o.Clients, MinIdleConns: o.Clients,
			ReadTimeout: o.Timeout, WriteTimeout: o.Timeout,
		})
		t.backend = redisBackend{rdb: rdb, idle: o.RedisIdle}
		t.closers = append(t.closers, func(context.Context) error { return rdb.Close() })
	}
	return t, nil
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

// preload writes a session for every user, with workers goroutines.
// Remote stores are filled through pipelines on the admin connection
// (HSET, and SESSION.PROPSET or prop: fields); the preload is not measured.
func (t *target) preload(ctx context.Context, w *workload, pop *population, seed uint64, workers int, o options) error {
	const batch = 64
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	next := make(chan int)
	now := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := range next {
				if err := t.preloadBatch(ctx, w, pop, seed, start, min(start+batch, len(pop.ids)), now, o); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	var err error
feed:
	for start := 0; start < len(pop.ids); start += batch {
		select {
		case next <- start:
		case err = <-errc:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	return err
}

func (t *target) preloadBatch(ctx context.Context, w *workload, pop *population, seed uint64, from, to int, now time.Time, o options) error {
	if t.mem != nil {
		for u := from; u < to; u++ {
			data, props := newEngine(w, nil, seed^uint64(u)<<20).preloadSession(u, now)
			if _, err := t.mem.Save(ctx, pop.ids[u], data...); err != nil {
				return err
			}
			for _, p := range props {
				if err := t.mem.SaveProp(ctx, pop.ids[u], p.Key, p.Value); err != nil {
					return err
				}
			}
		}
		return nil
	}
	_, err := t.admin.Pipelined(ctx, func(p redis.Pipeliner) error {
		for u := from; u < to; u++ {
			id := pop.ids[u]
			data, props := newEngine(w, nil, seed^uint64(u)<<20).preloadSession(u, now)
			args := []any{"hset", id}
			for _, f := range data {
				args = append(args, f.Key, f.Value)
			}
			if t.spec.Kind == kindRedis {
				for _, f := range props {
					args = append(args, propPrefix+f.Key, f.Value)
				}
			}
			p.Do(ctx, args...)
			if t.spec.Kind == kindRemote {
				for _, f := range props {
					p.Do(ctx, "session.propset", id, f.Key, f.Value)
				}
			} else if o.RedisIdle > 0 {
				p.PExpire(ctx, id, o.RedisIdle)
			}
		}
		return nil
	})
	return err
}

// cleanup deletes every session of the population (DEL in pipelines).
func (t *target) cleanup(ctx context.Context, pop *population) error {
	if t.admin == nil {
		return nil
	}
	const batch = 1000
	for start := 0; start < len(pop.ids); start += batch {
		_, err := t.admin.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, id := range pop.ids[start:min(start+batch, len(pop.ids))] {
				p.Del(ctx, id)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// serverPID returns the server's process id from INFO server, 0 if unknown.
func (t *target) serverPID(ctx context.Context) int {
	if t.admin == nil {
		return 0
	}
	info, err := t.admin.Info(ctx, "server").Result()
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "process_id:"); ok {
			pid, _ := strconv.Atoi(v)
			return pid
		}
	}
	return 0
}
