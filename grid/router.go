package grid

import (
	"context"
	"fmt"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// Router is the grid seen as one store: it implements session.Store,
// session.Strings and session.Keyspace by routing each call to the owner of
// its key's partition. Get it from Node.Router.
type Router struct {
	n       *Node
	onClose func(ctx context.Context) error
}

// Router returns the node's router. onClose, if not nil, runs on the
// router's Close (an embedded peer closes its whole member there).
func (n *Node) Router(onClose func(ctx context.Context) error) *Router {
	return &Router{n: n, onClose: onClose}
}

var (
	_ session.Store    = (*Router)(nil)
	_ session.Strings  = (*Router)(nil)
	_ session.Keyspace = (*Router)(nil)
)

func bs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func one(items [][]byte) ([]byte, error) {
	if len(items) != 1 {
		return nil, fmt.Errorf("%w: %d reply items, want 1", errMalformed, len(items))
	}
	return items[0], nil
}

func replyU64(dst *int) func([][]byte) error {
	return func(items [][]byte) error {
		b, err := one(items)
		if err != nil {
			return err
		}
		v, err := getU64(b)
		*dst = int(v)
		return err
	}
}

func replyBool(dst *bool) func([][]byte) error {
	return func(items [][]byte) error {
		b, err := one(items)
		if err != nil || len(b) != 1 {
			return fmt.Errorf("%w: bad boolean", errMalformed)
		}
		*dst = b[0] == 1
		return nil
	}
}

func replyBytes(dst *[]byte) func([][]byte) error {
	return func(items [][]byte) error {
		b, err := one(items)
		*dst = append([]byte{}, b...)
		return err
	}
}

func replyMap(dst *map[string][]byte) func([][]byte) error {
	return func(items [][]byte) error {
		if len(items)%2 != 0 {
			return fmt.Errorf("%w: odd map reply", errMalformed)
		}
		m := make(map[string][]byte, len(items)/2)
		for i := 0; i < len(items); i += 2 {
			m[string(items[i])] = append([]byte{}, items[i+1]...)
		}
		*dst = m
		return nil
	}
}

func noReply([][]byte) error { return nil }

// checkValue validates a value against the stores' limit before it is sent.
func (r *Router) checkValue(v []byte) error {
	return session.ValidateValue(v, r.n.cfg.Store.MaxValueSize)
}

// check validates an id and keys before anything is sent.
func check(id string, keys ...string) error {
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

// Save implements session.Store.
func (r *Router) Save(ctx context.Context, id string, fields ...session.Field) (int, error) {
	if err := check(id); err != nil {
		return 0, err
	}
	for _, f := range fields {
		if err := session.ValidateKey(f.Key); err != nil {
			return 0, err
		}
		if err := r.checkValue(f.Value); err != nil {
			return 0, err
		}
	}
	if len(fields) == 0 {
		return 0, nil
	}
	if pt, s := r.n.acquire(id); pt != nil {
		added, err := s.Save(ctx, id, fields...)
		pt.release(id, true)
		return added, err
	}
	var added int
	err := r.n.route(ctx, call{key: id, write: true, op: opSave,
		local: func(s *memory.Store) (err error) { added, err = s.Save(ctx, id, fields...); return },
		args: func() [][]byte {
			a := make([][]byte, 0, 1+2*len(fields))
			a = append(a, []byte(id))
			for _, f := range fields {
				a = append(a, []byte(f.Key), f.Value)
			}
			return a
		},
		reply: replyU64(&added)})
	return added, err
}

// Get implements session.Store.
func (r *Router) Get(ctx context.Context, id, key string) ([]byte, error) {
	if err := check(id, key); err != nil {
		return nil, err
	}
	if pt, s := r.n.acquire(id); pt != nil {
		v, err := s.Get(ctx, id, key)
		leads := r.n.stillLeadsKey(pt, id) // a miss may be stale too
		pt.release(id, false)
		if leads {
			return v, err
		}
		// The lease ran out during the read: route it like any other.
	}
	var v []byte
	err := r.n.route(ctx, call{key: id, op: opGet,
		local: func(s *memory.Store) (err error) { v, err = s.Get(ctx, id, key); return },
		args:  func() [][]byte { return bs(id, key) }, reply: replyBytes(&v)})
	return v, err
}

// GetAll implements session.Store.
func (r *Router) GetAll(ctx context.Context, id string) (map[string][]byte, error) {
	return r.readMap(ctx, id, opGetAll, (*memory.Store).GetAll)
}

// Props implements session.Store.
func (r *Router) Props(ctx context.Context, id string) (map[string][]byte, error) {
	return r.readMap(ctx, id, opProps, (*memory.Store).Props)
}

func (r *Router) readMap(ctx context.Context, id string, op byte, fn func(*memory.Store, context.Context, string) (map[string][]byte, error)) (map[string][]byte, error) {
	if err := check(id); err != nil {
		return nil, err
	}
	var m map[string][]byte
	err := r.n.route(ctx, call{key: id, op: op,
		local: func(s *memory.Store) (err error) { m, err = fn(s, ctx, id); return },
		args:  func() [][]byte { return bs(id) }, reply: replyMap(&m)})
	return m, err
}

// Exists implements session.Store.
func (r *Router) Exists(ctx context.Context, id, key string) (bool, error) {
	return r.boolOp(ctx, id, key, opExists, false, (*memory.Store).Exists)
}

// EvictProp implements session.Store.
func (r *Router) EvictProp(ctx context.Context, id, key string) (bool, error) {
	return r.boolOp(ctx, id, key, opEvictProp, true, (*memory.Store).EvictProp)
}

func (r *Router) boolOp(ctx context.Context, id, key string, op byte, write bool, fn func(*memory.Store, context.Context, string, string) (bool, error)) (bool, error) {
	if err := check(id, key); err != nil {
		return false, err
	}
	var ok bool
	err := r.n.route(ctx, call{key: id, op: op, write: write,
		local: func(s *memory.Store) (err error) { ok, err = fn(s, ctx, id, key); return },
		args:  func() [][]byte { return bs(id, key) }, reply: replyBool(&ok)})
	return ok, err
}

// Evict implements session.Store.
func (r *Router) Evict(ctx context.Context, id string, keys ...string) (int, error) {
	if err := check(id, keys...); err != nil {
		return 0, err
	}
	var n int
	err := r.n.route(ctx, call{key: id, op: opEvict, write: true,
		local: func(s *memory.Store) (err error) { n, err = s.Evict(ctx, id, keys...); return },
		args:  func() [][]byte { return bs(append([]string{id}, keys...)...) }, reply: replyU64(&n)})
	return n, err
}

// Clear implements session.Store.
func (r *Router) Clear(ctx context.Context, id string, retain ...string) (bool, error) {
	if err := check(id); err != nil {
		return false, err
	}
	var ok bool
	err := r.n.route(ctx, call{key: id, op: opClear, write: true,
		local: func(s *memory.Store) (err error) { ok, err = s.Clear(ctx, id, retain...); return },
		args: func() [][]byte {
			mode := byte(0)
			if len(retain) > 0 {
				mode = 1
			}
			return append([][]byte{[]byte(id), {mode}}, bs(retain...)...)
		},
		reply: replyBool(&ok)})
	return ok, err
}

// SaveProp implements session.Store.
func (r *Router) SaveProp(ctx context.Context, id, key string, value []byte) error {
	if err := check(id, key); err != nil {
		return err
	}
	if err := r.checkValue(value); err != nil {
		return err
	}
	if pt, s := r.n.acquire(id); pt != nil {
		err := s.SaveProp(ctx, id, key, value)
		pt.release(id, true)
		return err
	}
	return r.n.route(ctx, call{key: id, op: opSaveProp, write: true,
		local: func(s *memory.Store) error { return s.SaveProp(ctx, id, key, value) },
		args:  func() [][]byte { return [][]byte{[]byte(id), []byte(key), value} }, reply: noReply})
}

// GetProp implements session.Store.
func (r *Router) GetProp(ctx context.Context, id, key string) ([]byte, error) {
	if err := check(id, key); err != nil {
		return nil, err
	}
	if pt, s := r.n.acquire(id); pt != nil {
		v, err := s.GetProp(ctx, id, key)
		leads := r.n.stillLeadsKey(pt, id) // a miss may be stale too
		pt.release(id, false)
		if leads {
			return v, err
		}
		// The lease ran out during the read: route it like any other.
	}
	var v []byte
	err := r.n.route(ctx, call{key: id, op: opGetProp,
		local: func(s *memory.Store) (err error) { v, err = s.GetProp(ctx, id, key); return },
		args:  func() [][]byte { return bs(id, key) }, reply: replyBytes(&v)})
	return v, err
}

// SetExpiry implements session.Store.
func (r *Router) SetExpiry(ctx context.Context, id string, e session.Expiry) error {
	if err := check(id); err != nil {
		return err
	}
	return r.n.route(ctx, call{key: id, op: opSetExpiry, write: true,
		local: func(s *memory.Store) error { return s.SetExpiry(ctx, id, e) },
		args: func() [][]byte {
			return [][]byte{[]byte(id), i64(int64(e.Idle)), i64(int64(e.TTL))}
		}, reply: noReply})
}

// TTL implements session.Store.
func (r *Router) TTL(ctx context.Context, id string) (time.Duration, error) {
	if err := check(id); err != nil {
		return 0, err
	}
	var d time.Duration
	err := r.n.route(ctx, call{key: id, op: opTTL,
		local: func(s *memory.Store) (err error) { d, err = s.TTL(ctx, id); return },
		args:  func() [][]byte { return bs(id) },
		reply: func(items [][]byte) error {
			b, err := one(items)
			if err != nil {
				return err
			}
			v, err := getI64(b)
			d = time.Duration(v)
			return err
		}})
	return d, err
}

// SaveGlobal implements session.Store through the grid's globals map.
func (r *Router) SaveGlobal(ctx context.Context, key string, value []byte) error {
	if err := session.ValidateKey(key); err != nil {
		return err
	}
	if err := r.checkValue(value); err != nil {
		return err
	}
	return r.n.globals.Save(ctx, key, value)
}

// GetGlobal implements session.Store.
func (r *Router) GetGlobal(ctx context.Context, key string) ([]byte, error) {
	if err := session.ValidateKey(key); err != nil {
		return nil, err
	}
	return r.n.globals.Get(ctx, key)
}

// EvictGlobal implements session.Store.
func (r *Router) EvictGlobal(ctx context.Context, key string) (bool, error) {
	if err := session.ValidateKey(key); err != nil {
		return false, err
	}
	return r.n.globals.Evict(ctx, key)
}

// Globals implements session.Store.
func (r *Router) Globals(ctx context.Context) (map[string][]byte, error) {
	return r.n.globals.All(ctx)
}

// Close implements session.Store: it runs the close function given to
// Node.Router, if any. Idempotence is the close function's.
func (r *Router) Close(ctx context.Context) error {
	if r.onClose != nil {
		return r.onClose(ctx)
	}
	return nil
}

// Watch implements session.Watcher: the events of the partitions this
// member leads (Node.Watch).
func (r *Router) Watch(fn func(session.Event)) (cancel func()) { return r.n.Watch(fn) }
