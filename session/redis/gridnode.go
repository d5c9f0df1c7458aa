package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// gridnode is the backend of ModeGridnode: gridnode's native commands, one
// per contract call, each atomic on the node (see gridnode's RESP command
// table). The RESP key of a session is Prefix+id.
type gridnode struct {
	c      *goredis.Client
	prefix string
}

func (b *gridnode) key(id string) string { return b.prefix + id }

func (b *gridnode) save(ctx context.Context, id string, fields []session.Field) (int, error) {
	args := make([]any, 0, 2*len(fields))
	for _, f := range fields {
		args = append(args, f.Key, f.Value)
	}
	n, err := b.c.HSet(ctx, b.key(id), args...).Result()
	if err != nil {
		return 0, mapErr("HSET", err)
	}
	return int(n), nil
}

func (b *gridnode) get(ctx context.Context, id, key string) ([]byte, error) {
	v, err := b.c.HGet(ctx, b.key(id), key).Result()
	switch {
	case errors.Is(err, goredis.Nil):
		return nil, record.NotFound(id, key)
	case err != nil:
		return nil, mapErr("HGET", err)
	}
	return []byte(v), nil
}

func (b *gridnode) getAll(ctx context.Context, id string) (map[string][]byte, error) {
	all, err := b.c.HGetAll(ctx, b.key(id)).Result()
	if err != nil {
		return nil, mapErr("HGETALL", err)
	}
	out := make(map[string][]byte, len(all))
	for k, v := range all {
		out[k] = []byte(v)
	}
	return out, nil
}

func (b *gridnode) exists(ctx context.Context, id, key string) (bool, error) {
	ok, err := b.c.HExists(ctx, b.key(id), key).Result()
	if err != nil {
		return false, mapErr("HEXISTS", err)
	}
	return ok, nil
}

func (b *gridnode) evict(ctx context.Context, id string, keys []string) (int, error) {
	n, err := b.c.HDel(ctx, b.key(id), keys...).Result()
	if err != nil {
		return 0, mapErr("HDEL", err)
	}
	return int(n), nil
}

func (b *gridnode) clear(ctx context.Context, id string, retain []string) (bool, error) {
	args := []any{"SESSION.CLEAR", b.key(id)}
	if len(retain) > 0 {
		args = append(args, "RETAIN")
		for _, k := range retain {
			args = append(args, k)
		}
	}
	n, err := b.c.Do(ctx, args...).Int()
	if err != nil {
		return false, mapErr("SESSION.CLEAR", err)
	}
	return n > 0, nil
}

func (b *gridnode) saveProp(ctx context.Context, id, key string, value []byte) error {
	if err := b.c.Do(ctx, "SESSION.PROPSET", b.key(id), key, value).Err(); err != nil {
		return mapErr("SESSION.PROPSET", err)
	}
	return nil
}

func (b *gridnode) getProp(ctx context.Context, id, key string) ([]byte, error) {
	v, err := b.c.Do(ctx, "SESSION.PROPGET", b.key(id), key).Text()
	switch {
	case errors.Is(err, goredis.Nil):
		return nil, fmt.Errorf("prop: %w", record.NotFound(id, key))
	case err != nil:
		return nil, mapErr("SESSION.PROPGET", err)
	}
	return []byte(v), nil
}

func (b *gridnode) props(ctx context.Context, id string) (map[string][]byte, error) {
	return b.doMap(ctx, "SESSION.PROPS", b.key(id))
}

func (b *gridnode) evictProp(ctx context.Context, id, key string) (bool, error) {
	n, err := b.c.Do(ctx, "SESSION.PROPDEL", b.key(id), key).Int()
	if err != nil {
		return false, mapErr("SESSION.PROPDEL", err)
	}
	return n > 0, nil
}

func (b *gridnode) setExpiry(ctx context.Context, id string, x session.Expiry) (bool, error) {
	idle, ttl := expiryArgs(x)
	n, err := b.c.Do(ctx, "SESSION.EXPIRY", b.key(id), idle, ttl).Int()
	if err != nil {
		return false, mapErr("SESSION.EXPIRY", err)
	}
	return n > 0, nil
}

func (b *gridnode) ttl(ctx context.Context, id string) (time.Duration, error) {
	d, err := b.c.PTTL(ctx, b.key(id)).Result()
	return pttl(id, d, err)
}

func (b *gridnode) saveGlobal(ctx context.Context, key string, value []byte) error {
	if err := b.c.Do(ctx, "GLOBAL.SET", key, value).Err(); err != nil {
		return mapErr("GLOBAL.SET", err)
	}
	return nil
}

func (b *gridnode) getGlobal(ctx context.Context, key string) ([]byte, error) {
	v, err := b.c.Do(ctx, "GLOBAL.GET", key).Text()
	switch {
	case errors.Is(err, goredis.Nil):
		return nil, fmt.Errorf("%w: global %q", session.ErrNotFound, record.Truncate(key))
	case err != nil:
		return nil, mapErr("GLOBAL.GET", err)
	}
	return []byte(v), nil
}

func (b *gridnode) evictGlobal(ctx context.Context, key string) (bool, error) {
	n, err := b.c.Do(ctx, "GLOBAL.DEL", key).Int()
	if err != nil {
		return false, mapErr("GLOBAL.DEL", err)
	}
	return n > 0, nil
}

func (b *gridnode) globals(ctx context.Context) (map[string][]byte, error) {
	return b.doMap(ctx, "GLOBAL.ALL")
}

// doMap runs a command whose reply is a map (RESP3) or a flat array of
// keys and values (RESP2).
func (b *gridnode) doMap(ctx context.Context, args ...any) (map[string][]byte, error) {
	name, _ := args[0].(string)
	res, err := b.c.Do(ctx, args...).Result()
	if err != nil {
		return nil, mapErr(name, err)
	}
	out := map[string][]byte{}
	switch r := res.(type) {
	case map[any]any:
		for k, v := range r {
			ks, ok1 := k.(string)
			vs, ok2 := v.(string)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("redis: %s: unexpected reply entry %T: %T", name, k, v)
			}
			out[ks] = []byte(vs)
		}
	case []any:
		if len(r)%2 != 0 {
			return nil, fmt.Errorf("redis: %s: reply of odd length %d", name, len(r))
		}
		for i := 0; i < len(r); i += 2 {
			ks, ok1 := r[i].(string)
			vs, ok2 := r[i+1].(string)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("redis: %s: unexpected reply entry %T: %T", name, r[i], r[i+1])
			}
			out[ks] = []byte(vs)
		}
	default:
		return nil, fmt.Errorf("redis: %s: unexpected reply %T", name, res)
	}
	return out, nil
}
