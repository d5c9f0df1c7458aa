package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/session"
)

// propPrefix marks the fields of a session hash that hold props, so that a
// session (data, props and one expiry) stays one Redis key, as the
// frappe_pywce Redis manager would keep it.
const propPrefix = "prop:"

// redisBackend runs the workload on any RESP server with plain Redis hash
// commands, so the same workload runs against redis-server and gridnode:
//
//	Get       HGET id key
//	Save      HSET id k v [k v ...]       + PEXPIRE id idle, pipelined
//	Exists    HEXISTS id key
//	Evict     HDEL id k [k ...]           + PEXPIRE id idle, pipelined
//	Clear     DEL id
//	GetProp   HGET id prop:key
//	SaveProp  HSET id prop:key v          + PEXPIRE id idle, pipelined
//
// Redis has no sliding idle timeout, so every write re-arms the key's expiry
// in the same round trip (two commands for the server); idle 0 drops the
// PEXPIRE. gridnode slides its idle timeout inside HSET itself.
type redisBackend struct {
	rdb  *redis.Client
	idle time.Duration
}

func (b redisBackend) Get(ctx context.Context, id, key string) ([]byte, error) {
	v, err := b.rdb.HGet(ctx, id, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%w: %q in %q", session.ErrNotFound, key, id)
	}
	return v, err
}

// write runs cmd and, when an idle timeout is set, PEXPIRE in one round trip.
func (b redisBackend) write(ctx context.Context, id string, args ...any) error {
	if b.idle <= 0 {
		return b.rdb.Do(ctx, args...).Err()
	}
	_, err := b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Do(ctx, args...)
		p.PExpire(ctx, id, b.idle)
		return nil
	})
	return err
}

func (b redisBackend) Save(ctx context.Context, id string, fields ...session.Field) error {
	args := make([]any, 0, 2+2*len(fields))
	args = append(args, "hset", id)
	for _, f := range fields {
		args = append(args, f.Key, f.Value)
	}
	return b.write(ctx, id, args...)
}

func (b redisBackend) Exists(ctx context.Context, id, key string) (bool, error) {
	return b.rdb.HExists(ctx, id, key).Result()
}

func (b redisBackend) Evict(ctx context.Context, id string, keys ...string) error {
	args := make([]any, 0, 2+len(keys))
	args = append(args, "hdel", id)
	for _, k := range keys {
		args = append(args, k)
	}
	return b.write(ctx, id, args...)
}

func (b redisBackend) Clear(ctx context.Context, id string) error {
	return b.rdb.Del(ctx, id).Err()
}

func (b redisBackend) GetProp(ctx context.Context, id, key string) ([]byte, error) {
	return b.Get(ctx, id, propPrefix+key)
}

func (b redisBackend) SaveProp(ctx context.Context, id, key string, value []byte) error {
	return b.write(ctx, id, "hset", id, propPrefix+key, value)
}
