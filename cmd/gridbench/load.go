package main

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// batchSize is the number of sessions a preload or cleanup worker takes at
// a time (one pipeline for remote and redis).
const batchSize = 64

// forBatches runs fn over [0, n) in batches of batchSize with workers
// goroutines, and returns the first error (which stops the feeding).
func forBatches(ctx context.Context, n, workers int, fn func(from, to int) error) error {
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := range next {
				if err := fn(start, min(start+batchSize, n)); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	var err error
feed:
	for start := 0; start < n; start += batchSize {
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

// preload writes a session for every user, with workers goroutines. The
// remote and redis targets are filled through pipelines on the admin
// connection (HSET, and SESSION.PROPSET or prop: fields), the others
// through their session.Store (Save, then SaveProp); the preload is not
// measured.
func (t *target) preload(ctx context.Context, w *workload, pop *population, seed uint64, workers int, o options) error {
	now := time.Now()
	return forBatches(ctx, len(pop.ids), workers, func(from, to int) error {
		if t.spec.Kind == kindRemote || t.spec.Kind == kindRedis {
			return t.preloadPipelined(ctx, w, pop, seed, from, to, now, o)
		}
		for u := from; u < to; u++ {
			data, props := newEngine(w, nil, seed^uint64(u)<<20).preloadSession(u, now)
			if _, err := t.store.Save(ctx, pop.ids[u], data...); err != nil {
				return err
			}
			for _, p := range props {
				if err := t.store.SaveProp(ctx, pop.ids[u], p.Key, p.Value); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func (t *target) preloadPipelined(ctx context.Context, w *workload, pop *population, seed uint64, from, to int, now time.Time, o options) error {
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

// cleanup deletes every session of the population from stores that
// outlive the benchmark: servers (DEL in pipelines for remote and redis,
// Clear through the store for redisstore) and file or bolt targets given
// a path. Temporary directories are removed whole at close, and memory
// and cache go with their process.
func (t *target) cleanup(ctx context.Context, pop *population, workers int) error {
	switch {
	case t.spec.Kind == kindRemote || t.spec.Kind == kindRedis:
		return forBatches(ctx, len(pop.ids), 1, func(from, to int) error {
			_, err := t.admin.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, id := range pop.ids[from:to] {
					p.Del(ctx, id)
				}
				return nil
			})
			return err
		})
	case t.spec.Kind == kindRedisStore || (t.local != nil && t.local.temp == "" && t.spec.Path != ""):
		if t.store == nil {
			return nil
		}
		return forBatches(ctx, len(pop.ids), workers, func(from, to int) error {
			for _, id := range pop.ids[from:to] {
				if _, err := t.store.Clear(ctx, id); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return nil
}
