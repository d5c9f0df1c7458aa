package server

import (
	"errors"

	"github.com/sessiongrid/sessiongrid/session"
)

// Hash commands: a session's data keys are the fields of a Redis hash.

func (c *conn) hset(args [][]byte) {
	if added, ok := c.saveFields(args); ok {
		c.out.int(int64(added))
		c.notify(notifyHash, "hset", string(args[1]))
	}
}

func (c *conn) hmset(args [][]byte) {
	if _, ok := c.saveFields(args); ok {
		c.out.ok()
		c.notify(notifyHash, "hset", string(args[1]))
	}
}

// saveFields runs Store.Save with the field/value pairs of args[2:] (one
// atomic step). On failure it has appended the error reply.
func (c *conn) saveFields(args [][]byte) (int, bool) {
	if len(args)%2 != 0 {
		c.arityError(c.s.table[lookup(args[0])].name)
		return 0, false
	}
	fields := c.fields[:0]
	for i := 2; i < len(args); i += 2 {
		if err := c.checkValue(args[i+1]); err != nil {
			c.storeError(err)
			return 0, false
		}
		fields = append(fields, session.Field{Key: string(args[i]), Value: args[i+1]})
	}
	added, err := c.s.backend.Save(c.bctx(), string(args[1]), fields...)
	clear(fields) // drop the references into the input buffer
	c.fields = fields[:0]
	if err != nil {
		c.storeError(err)
		return 0, false
	}
	return added, true
}

// checkValue applies Config.MaxValueSize before the backend is called.
func (c *conn) checkValue(v []byte) error {
	if len(v) <= c.s.cfg.MaxValueSize {
		return nil
	}
	return session.ValidateValue(v, c.s.cfg.MaxValueSize)
}

func (c *conn) hget(args [][]byte) {
	v, err := c.s.backend.Get(c.bctx(), string(args[1]), string(args[2]))
	c.valueReply(v, err)
}

// valueReply appends v, a null for ErrNotFound, or the error.
func (c *conn) valueReply(v []byte, err error) {
	switch {
	case err == nil:
		c.out.bulk(v)
	case errors.Is(err, session.ErrNotFound):
		c.out.null()
	default:
		c.storeError(err)
	}
}

func (c *conn) hmget(args [][]byte) {
	if len(args) == 3 {
		v, err := c.s.backend.Get(c.bctx(), string(args[1]), string(args[2]))
		if err != nil && !errors.Is(err, session.ErrNotFound) {
			c.storeError(err)
			return
		}
		c.out.array(1)
		c.valueReply(v, err)
		return
	}
	// Several fields: one snapshot of the session.
	all, err := c.s.backend.GetAll(c.bctx(), string(args[1]))
	if err != nil {
		c.storeError(err)
		return
	}
	c.out.array(len(args) - 2)
	for _, f := range args[2:] {
		if v, ok := all[string(f)]; ok {
			c.out.bulk(v)
		} else {
			c.out.null()
		}
	}
}

// getAll returns the session's data, or appends the error reply.
func (c *conn) getAll(id []byte) (map[string][]byte, bool) {
	all, err := c.s.backend.GetAll(c.bctx(), string(id))
	if err != nil {
		c.storeError(err)
		return nil, false
	}
	return all, true
}

func (c *conn) hgetall(args [][]byte) {
	if all, ok := c.getAll(args[1]); ok {
		c.out.bytesMap(all)
	}
}

func (c *conn) hkeys(args [][]byte) {
	if all, ok := c.getAll(args[1]); ok {
		c.out.strings(sortedKeys(all))
	}
}

func (c *conn) hvals(args [][]byte) {
	if all, ok := c.getAll(args[1]); ok {
		c.out.array(len(all))
		for _, k := range sortedKeys(all) {
			c.out.bulk(all[k])
		}
	}
}

func (c *conn) hlen(args [][]byte) {
	if all, ok := c.getAll(args[1]); ok {
		c.out.int(int64(len(all)))
	}
}

func (c *conn) hstrlen(args [][]byte) {
	v, err := c.s.backend.Get(c.bctx(), string(args[1]), string(args[2]))
	switch {
	case err == nil:
		c.out.int(int64(len(v)))
	case errors.Is(err, session.ErrNotFound):
		c.out.int(0)
	default:
		c.storeError(err)
	}
}

func (c *conn) hdel(args [][]byte) {
	keys := c.strs[:0]
	for _, f := range args[2:] {
		keys = append(keys, string(f))
	}
	n, err := c.s.backend.Evict(c.bctx(), string(args[1]), keys...)
	clear(keys)
	c.strs = keys[:0]
	if err != nil {
		c.storeError(err)
		return
	}
	if n > 0 {
		c.notify(notifyHash, "hdel", string(args[1]))
		c.notifyIfGone(string(args[1]))
	}
	c.out.int(int64(n))
}

func (c *conn) hexists(args [][]byte) {
	ok, err := c.s.backend.Exists(c.bctx(), string(args[1]), string(args[2]))
	if err != nil {
		c.storeError(err)
		return
	}
	c.out.bool(ok)
}
