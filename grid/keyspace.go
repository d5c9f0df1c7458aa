package grid

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// GetString implements session.Strings.
func (r *Router) GetString(ctx context.Context, key string) ([]byte, error) {
	if err := check(key); err != nil {
		return nil, err
	}
	var v []byte
	err := r.n.route(ctx, call{key: key, op: opGetString,
		local: func(s *memory.Store) (err error) { v, err = s.GetString(ctx, key); return },
		args:  func() [][]byte { return bs(key) }, reply: replyBytes(&v)})
	return v, err
}

// SetString implements session.Strings.
func (r *Router) SetString(ctx context.Context, key string, value []byte, opt session.SetOptions) (session.SetResult, error) {
	var res session.SetResult
	if err := check(key); err != nil {
		return res, err
	}
	if err := r.checkValue(value); err != nil {
		return res, err
	}
	err := r.n.route(ctx, call{key: key, op: opSetString, write: true,
		local: func(s *memory.Store) (err error) { res, err = s.SetString(ctx, key, value, opt); return },
		args: func() [][]byte {
			var flags byte
			if opt.KeepTTL {
				flags |= 1
			}
			if opt.Get {
				flags |= 2
			}
			return [][]byte{[]byte(key), value, {byte(opt.Cond)}, opt.Match, i64(int64(opt.TTL)), {flags}}
		},
		reply: func(items [][]byte) error {
			if len(items) != 4 {
				return fmt.Errorf("%w: set reply of %d items", errMalformed, len(items))
			}
			res.Applied, res.Existed = items[0][0] == 1, items[1][0] == 1
			if len(items[2]) == 1 && items[2][0] == 1 {
				res.Old = append([]byte{}, items[3]...)
			}
			return nil
		}})
	return res, err
}

// DeleteIf implements session.Strings.
func (r *Router) DeleteIf(ctx context.Context, key string, equal bool, value []byte) (bool, error) {
	if err := check(key); err != nil {
		return false, err
	}
	var ok bool
	err := r.n.route(ctx, call{key: key, op: opDeleteIf, write: true,
		local: func(s *memory.Store) (err error) { ok, err = s.DeleteIf(ctx, key, equal, value); return },
		args:  func() [][]byte { return [][]byte{[]byte(key), boolb(equal), value} }, reply: replyBool(&ok)})
	return ok, err
}

// KindOf implements session.Keyspace.
func (r *Router) KindOf(ctx context.Context, key string) (session.Kind, error) {
	if err := check(key); err != nil {
		return session.KindNone, err
	}
	var k session.Kind
	err := r.n.route(ctx, call{key: key, op: opKindOf,
		local: func(s *memory.Store) (err error) { k, err = s.KindOf(ctx, key); return },
		args:  func() [][]byte { return bs(key) },
		reply: func(items [][]byte) error {
			b, err := one(items)
			if err != nil || len(b) != 1 {
				return fmt.Errorf("%w: bad kind", errMalformed)
			}
			k = session.Kind(b[0])
			return nil
		}})
	return k, err
}

// Delete implements session.Keyspace: each key is deleted on its owner.
// It is atomic per key, not across keys (keys live in different partitions).
func (r *Router) Delete(ctx context.Context, keys ...string) (int, error) {
	for _, k := range keys {
		if err := check(k); err != nil {
			return 0, err
		}
	}
	total := 0
	for _, key := range keys {
		var n int
		err := r.n.route(ctx, call{key: key, op: opDelete, write: true,
			local: func(s *memory.Store) (err error) { n, err = s.Delete(ctx, key); return },
			args:  func() [][]byte { return bs(key) }, reply: replyU64(&n)})
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// Scan implements session.Keyspace. The cursor is a partition number: each
// call returns the matching keys of whole partitions, asked of their owners,
// until count keys are gathered.
func (r *Router) Scan(ctx context.Context, cursor uint64, pattern string, count int) (uint64, []string, error) {
	parts := uint64(r.n.cfg.Partitions)
	if cursor >= parts {
		return 0, nil, fmt.Errorf("grid: invalid cursor %d", cursor)
	}
	if count <= 0 {
		count = 10
	}
	var keys []string
	p := cursor
	for ; p < parts && len(keys) < count; p++ {
		ks, err := r.n.partitionKeys(ctx, int(p), pattern)
		if err != nil {
			return 0, nil, err
		}
		keys = append(keys, ks...)
	}
	if p >= parts {
		p = 0
	}
	return p, keys, nil
}

// Len implements session.Keyspace: the keys of every partition, summed.
func (r *Router) Len(ctx context.Context) (int, error) {
	total := 0
	for p := 0; p < r.n.cfg.Partitions; p++ {
		ks, err := r.n.partitionKeys(ctx, p, "")
		if err != nil {
			return 0, err
		}
		total += len(ks)
	}
	return total, nil
}

// partitionKeys returns the keys of partition p matching pattern, from its
// owner.
func (n *Node) partitionKeys(ctx context.Context, p int, pattern string) ([]string, error) {
	deadline := time.Now().Add(n.cfg.RouteTimeout)
	for {
		t := n.table.Load()
		if len(t.Partitions) == 0 {
			return nil, errNoTable
		}
		owner := t.Owner(p)
		if owner == n.self {
			var keys []string
			served, err := n.serveLocal(ctx, p, "", false, func(s *memory.Store) error {
				var err error
				keys, err = scanAll(ctx, s, pattern)
				return err
			})
			if served {
				return keys, err
			}
		} else if addr := n.addrOf(owner); addr != "" {
			req := binary.AppendUvarint(nil, t.Epoch)
			req = binary.AppendUvarint(req, uint64(p))
			req = append(req, pattern...)
			b, err := n.tr.Call(ctx, addr, msgScan, req)
			if err == nil {
				items, redirected, _, err := decodeResponse(b)
				if err != nil {
					return nil, err
				}
				if !redirected {
					return strs(items), nil
				}
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: partition %d: owner unreachable", session.ErrUnavailable, p)
		}
		n.waitTable(ctx, t.Epoch+1, earlier(deadline, 100*time.Millisecond))
	}
}

func scanAll(ctx context.Context, s *memory.Store, pattern string) ([]string, error) {
	var out []string
	var cursor uint64
	for {
		next, keys, err := s.Scan(ctx, cursor, pattern, 1<<30)
		if err != nil {
			return nil, err
		}
		out = append(out, keys...)
		if next == 0 {
			return out, nil
		}
		cursor = next
	}
}

func (n *Node) handleScan(ctx context.Context, b []byte) ([]byte, error) {
	epoch, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, fmt.Errorf("%w: scan epoch", errMalformed)
	}
	p, k2 := binary.Uvarint(b[k:])
	if k2 <= 0 || p >= uint64(n.cfg.Partitions) {
		return nil, fmt.Errorf("%w: scan partition", errMalformed)
	}
	pattern := string(b[k+k2:])
	if epoch > n.applied.Load() {
		n.waitTable(ctx, epoch, time.Now().Add(time.Second))
	}
	var keys []string
	served, err := n.serveLocal(ctx, int(p), "", false, func(s *memory.Store) error {
		var err error
		keys, err = scanAll(ctx, s, pattern)
		return err
	})
	if !served {
		return encodeRedirect(n.table.Load().Epoch), nil
	}
	if err != nil {
		return nil, err
	}
	return encodeResponse(bs(keys...)...), nil
}
