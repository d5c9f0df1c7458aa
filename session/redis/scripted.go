package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// Field tags of a session hash in ModeScript (see the package doc).
const (
	tagData = "d:"
	tagProp = "p:"
)

// scripted is the backend of ModeScript (redis-server).
type scripted struct {
	c      *goredis.Client
	prefix string
	gkey   string // the globals' hash
	idle   int64  // default idle in ms; -1 = never
	touch  bool   // reads slide the idle timeout
}

func (b *scripted) key(id string) string { return b.prefix + "s:" + id }

// run runs script on session id's key with the default idle as ARGV[1].
func (b *scripted) run(ctx context.Context, sc *goredis.Script, id string, args ...any) *goredis.Cmd {
	return sc.Run(ctx, b.c, []string{b.key(id)}, append([]any{b.idle}, args...)...)
}

func (b *scripted) save(ctx context.Context, id string, fields []session.Field) (int, error) {
	args := make([]any, 0, 2*len(fields))
	for _, f := range fields {
		args = append(args, tagData+f.Key, f.Value)
	}
	n, err := b.run(ctx, scriptSave, id, args...).Int()
	if err != nil {
		return 0, mapErr("save", err)
	}
	return n, nil
}

// read returns one field of session id, nil with found=false if missing.
func (b *scripted) read(ctx context.Context, id, field string) ([]byte, bool, error) {
	var (
		v   string
		err error
	)
	if b.touch {
		v, err = b.run(ctx, scriptTouchGet, id, field).Text()
	} else {
		v, err = b.c.HGet(ctx, b.key(id), field).Result()
	}
	switch {
	case errors.Is(err, goredis.Nil):
		return nil, false, nil
	case err != nil:
		return nil, false, mapErr("HGET", err)
	}
	return []byte(v), true, nil
}

// readAll returns the fields of session id with tag, untagged.
func (b *scripted) readAll(ctx context.Context, id, tag string) (map[string][]byte, error) {
	out := map[string][]byte{}
	if b.touch {
		flat, err := b.run(ctx, scriptTouchGetAll, id).StringSlice()
		if err != nil {
			return nil, mapErr("HGETALL", err)
		}
		for i := 0; i+1 < len(flat); i += 2 {
			if k, ok := strings.CutPrefix(flat[i], tag); ok {
				out[k] = []byte(flat[i+1])
			}
		}
		return out, nil
	}
	all, err := b.c.HGetAll(ctx, b.key(id)).Result()
	if err != nil {
		return nil, mapErr("HGETALL", err)
	}
	for f, v := range all {
		if k, ok := strings.CutPrefix(f, tag); ok {
			out[k] = []byte(v)
		}
	}
	return out, nil
}

func (b *scripted) get(ctx context.Context, id, key string) ([]byte, error) {
	v, ok, err := b.read(ctx, id, tagData+key)
	if err == nil && !ok {
		err = record.NotFound(id, key)
	}
	return v, err
}

func (b *scripted) getAll(ctx context.Context, id string) (map[string][]byte, error) {
	return b.readAll(ctx, id, tagData)
}

func (b *scripted) exists(ctx context.Context, id, key string) (bool, error) {
	var (
		ok  bool
		err error
	)
	if b.touch {
		ok, err = b.run(ctx, scriptTouchExists, id, tagData+key).Bool()
	} else {
		ok, err = b.c.HExists(ctx, b.key(id), tagData+key).Result()
	}
	if err != nil {
		return false, mapErr("HEXISTS", err)
	}
	return ok, nil
}

func (b *scripted) evictFields(ctx context.Context, id string, fields []any) (int, error) {
	n, err := b.run(ctx, scriptEvict, id, fields...).Int()
	if err != nil {
		return 0, mapErr("evict", err)
	}
	return n, nil
}

func (b *scripted) evict(ctx context.Context, id string, keys []string) (int, error) {
	fields := make([]any, len(keys))
	for i, k := range keys {
		fields[i] = tagData + k
	}
	return b.evictFields(ctx, id, fields)
}

func (b *scripted) clear(ctx context.Context, id string, retain []string) (bool, error) {
	if len(retain) == 0 {
		n, err := b.c.Del(ctx, b.key(id)).Result()
		if err != nil {
			return false, mapErr("DEL", err)
		}
		return n > 0, nil
	}
	args := make([]any, len(retain))
	for i, k := range retain {
		args[i] = tagData + k
	}
	n, err := b.run(ctx, scriptClearRetain, id, args...).Int()
	if err != nil {
		return false, mapErr("clear", err)
	}
	return n > 0, nil
}

func (b *scripted) saveProp(ctx context.Context, id, key string, value []byte) error {
	if err := b.run(ctx, scriptSave, id, tagProp+key, value).Err(); err != nil {
		return mapErr("save prop", err)
	}
	return nil
}

func (b *scripted) getProp(ctx context.Context, id, key string) ([]byte, error) {
	v, ok, err := b.read(ctx, id, tagProp+key)
	if err == nil && !ok {
		err = fmt.Errorf("prop: %w", record.NotFound(id, key))
	}
	return v, err
}

func (b *scripted) props(ctx context.Context, id string) (map[string][]byte, error) {
	return b.readAll(ctx, id, tagProp)
}

func (b *scripted) evictProp(ctx context.Context, id, key string) (bool, error) {
	n, err := b.evictFields(ctx, id, []any{tagProp + key})
	return n > 0, err
}

func (b *scripted) setExpiry(ctx context.Context, id string, x session.Expiry) (bool, error) {
	idle, ttl := expiryArgs(x)
	n, err := b.run(ctx, scriptSetExpiry, id, idle, ttl).Int()
	if err != nil {
		return false, mapErr("set expiry", err)
	}
	return n > 0, nil
}

func (b *scripted) ttl(ctx context.Context, id string) (time.Duration, error) {
	d, err := b.c.PTTL(ctx, b.key(id)).Result()
	return pttl(id, d, err)
}

func (b *scripted) saveGlobal(ctx context.Context, key string, value []byte) error {
	if err := b.c.HSet(ctx, b.gkey, key, value).Err(); err != nil {
		return mapErr("HSET global", err)
	}
	return nil
}

func (b *scripted) getGlobal(ctx context.Context, key string) ([]byte, error) {
	v, err := b.c.HGet(ctx, b.gkey, key).Result()
	switch {
	case errors.Is(err, goredis.Nil):
		return nil, fmt.Errorf("%w: global %q", session.ErrNotFound, record.Truncate(key))
	case err != nil:
		return nil, mapErr("HGET global", err)
	}
	return []byte(v), nil
}

func (b *scripted) evictGlobal(ctx context.Context, key string) (bool, error) {
	n, err := b.c.HDel(ctx, b.gkey, key).Result()
	if err != nil {
		return false, mapErr("HDEL global", err)
	}
	return n > 0, nil
}

func (b *scripted) globals(ctx context.Context) (map[string][]byte, error) {
	all, err := b.c.HGetAll(ctx, b.gkey).Result()
	if err != nil {
		return nil, mapErr("HGETALL globals", err)
	}
	out := make(map[string][]byte, len(all))
	for k, v := range all {
		out[k] = []byte(v)
	}
	return out, nil
}
