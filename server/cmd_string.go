package server

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// Plain string commands.

func (c *conn) get(args [][]byte) {
	v, err := c.s.backend.GetString(c.bctx(), string(args[1]))
	c.valueReply(v, err)
}

func (c *conn) mget(args [][]byte) {
	c.out.array(len(args) - 1)
	for _, k := range args[1:] {
		v, err := c.s.backend.GetString(c.bctx(), string(k))
		if err != nil {
			c.out.null() // missing, or not a string: nil as in Redis
			continue
		}
		c.out.bulk(v)
	}
}

// setArgs is a parsed SET request.
type setArgs struct {
	opt session.SetOptions
	// at is an absolute deadline (EXAT/PXAT); ttl is computed from it.
	at     time.Time
	hasTTL bool
}

// parseSet parses the options of SET key value [...]. On error it has
// appended the error reply.
func (c *conn) parseSet(opts [][]byte) (setArgs, bool) {
	var a setArgs
	cond := false
	for i := 0; i < len(opts); i++ {
		var word [8]byte
		o := opts[i]
		if len(o) > len(word) {
			c.syntaxError()
			return a, false
		}
		for j, ch := range o {
			if 'A' <= ch && ch <= 'Z' {
				ch += 'a' - 'A'
			}
			word[j] = ch
		}
		hasNext := i+1 < len(opts)
		switch string(word[:len(o)]) {
		case "nx", "xx", "ifeq":
			if cond {
				c.syntaxError()
				return a, false
			}
			cond = true
			switch o[0] | 0x20 {
			case 'n':
				a.opt.Cond = session.SetIfNotExists
			case 'x':
				a.opt.Cond = session.SetIfExists
			default:
				if !hasNext {
					c.syntaxError()
					return a, false
				}
				i++
				a.opt.Cond, a.opt.Match = session.SetIfEqual, opts[i]
			}
		case "get":
			a.opt.Get = true
		case "keepttl":
			if a.hasTTL || a.opt.KeepTTL {
				c.syntaxError()
				return a, false
			}
			a.opt.KeepTTL = true
		case "ex", "px", "exat", "pxat":
			if a.hasTTL || a.opt.KeepTTL || !hasNext {
				c.syntaxError()
				return a, false
			}
			i++
			n, ok := parseInt(opts[i])
			if !ok {
				c.out.error(msgNotInteger)
				return a, false
			}
			unit := time.Millisecond
			if word[0] == 'e' {
				unit = time.Second
			}
			if n <= 0 || n > int64(math.MaxInt64/unit) {
				c.out.error("ERR invalid expire time in 'set' command")
				return a, false
			}
			a.hasTTL = true
			if len(o) == 4 { // EXAT, PXAT
				a.at = time.Unix(0, 0).Add(time.Duration(n) * unit)
				a.opt.TTL = a.at.Sub(c.s.cfg.Now())
			} else {
				a.opt.TTL = time.Duration(n) * unit
			}
		default:
			c.syntaxError()
			return a, false
		}
	}
	return a, true
}

func (c *conn) set(args [][]byte) {
	a, ok := c.parseSet(args[3:])
	if !ok {
		return
	}
	res, ok := c.setString(args[1], args[2], a)
	if !ok {
		return
	}
	switch {
	case a.opt.Get && res.Existed:
		c.out.bulk(res.Old)
	case a.opt.Get, !res.Applied:
		c.out.null()
	default:
		c.out.ok()
	}
}

// setString runs Strings.SetString. A deadline already past (EXAT/PXAT)
// sets the key and deletes it, as Redis does. On error it has appended the
// error reply.
func (c *conn) setString(key, value []byte, a setArgs) (session.SetResult, bool) {
	if err := c.checkValue(value); err != nil {
		c.storeError(err)
		return session.SetResult{}, false
	}
	k := string(key)
	past := a.hasTTL && a.opt.TTL <= 0
	if past {
		a.opt.TTL = time.Nanosecond
	}
	res, err := c.s.backend.SetString(c.bctx(), k, value, a.opt)
	if err == nil && res.Applied {
		c.notify(notifyString, "set", k)
		if a.hasTTL && !past {
			c.notify(notifyGeneric, "expire", k)
		}
	}
	if err == nil && past && res.Applied {
		_, err = c.s.backend.Delete(c.bctx(), k)
		if err == nil {
			c.notify(notifyGeneric, "del", k)
		}
	}
	if err != nil {
		c.storeError(err)
		return res, false
	}
	return res, true
}

func (c *conn) setex(args [][]byte)  { c.setexGeneric(args, time.Second) }
func (c *conn) psetex(args [][]byte) { c.setexGeneric(args, time.Millisecond) }

func (c *conn) setexGeneric(args [][]byte, unit time.Duration) {
	n, ok := parseInt(args[2])
	if !ok {
		c.out.error(msgNotInteger)
		return
	}
	if n <= 0 || n > int64(math.MaxInt64/unit) {
		c.out.error("ERR invalid expire time in '" + strings.ToLower(string(args[0])) + "' command")
		return
	}
	a := setArgs{hasTTL: true, opt: session.SetOptions{TTL: time.Duration(n) * unit}}
	if _, ok := c.setString(args[1], args[3], a); ok {
		c.out.ok()
	}
}

func (c *conn) setnx(args [][]byte) {
	a := setArgs{opt: session.SetOptions{Cond: session.SetIfNotExists}}
	if res, ok := c.setString(args[1], args[2], a); ok {
		c.out.bool(res.Applied)
	}
}

// delex is DELEX key [IFEQ value | IFNE value]: the atomic compare-and-
// delete that releases a lock. Without a condition it deletes the key
// whatever its kind, like DEL.
func (c *conn) delex(args [][]byte) {
	key := string(args[1])
	switch len(args) {
	case 2:
		n, err := c.s.backend.Delete(c.bctx(), key)
		if err != nil {
			c.storeError(err)
			return
		}
		if n > 0 {
			c.notify(notifyGeneric, "del", key)
		}
		c.out.int(int64(n))
		return
	case 4:
	default:
		c.syntaxError()
		return
	}
	var equal bool
	switch strings.ToLower(string(args[2])) {
	case "ifeq":
		equal = true
	case "ifne":
	default:
		c.syntaxError()
		return
	}
	deleted, err := c.s.backend.DeleteIf(c.bctx(), key, equal, args[3])
	if err != nil {
		c.storeError(err)
		return
	}
	if deleted {
		c.notify(notifyGeneric, "del", key)
	}
	c.out.bool(deleted)
}

func (c *conn) incr(args [][]byte) { c.incrBy(args[1], 1) }
func (c *conn) decr(args [][]byte) { c.incrBy(args[1], -1) }

func (c *conn) incrby(args [][]byte) {
	n, err := strconv.ParseInt(string(args[2]), 10, 64)
	if err != nil {
		c.out.error(msgNotInteger)
		return
	}
	c.incrBy(args[1], n)
}

func (c *conn) decrby(args [][]byte) {
	n, err := strconv.ParseInt(string(args[2]), 10, 64)
	if err != nil || n == math.MinInt64 {
		c.out.error(msgNotInteger)
		return
	}
	c.incrBy(args[1], -n)
}

// maxCASRetries bounds the compare-and-set loop of INCR under contention.
const maxCASRetries = 1000

// incrBy adds delta to the integer in key atomically: a compare-and-set
// loop over SetString (IFEQ the value read, keeping the deadline).
func (c *conn) incrBy(key []byte, delta int64) {
	k := string(key)
	for range maxCASRetries {
		old, err := c.s.backend.GetString(c.bctx(), k)
		if errors.Is(err, session.ErrNotFound) {
			res, err := c.s.backend.SetString(c.bctx(), k, strconv.AppendInt(nil, delta, 10),
				session.SetOptions{Cond: session.SetIfNotExists})
			if err != nil {
				c.storeError(err)
				return
			}
			if res.Applied {
				c.notify(notifyString, "incrby", k)
				c.out.int(delta)
				return
			}
			continue
		}
		if err != nil {
			c.storeError(err)
			return
		}
		n, perr := strconv.ParseInt(string(old), 10, 64)
		if perr != nil {
			c.out.error(msgNotInteger)
			return
		}
		if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
			c.out.error("ERR increment or decrement would overflow")
			return
		}
		res, err := c.s.backend.SetString(c.bctx(), k, strconv.AppendInt(nil, n+delta, 10),
			session.SetOptions{Cond: session.SetIfEqual, Match: old, KeepTTL: true})
		if err != nil {
			c.storeError(err)
			return
		}
		if res.Applied {
			c.notify(notifyString, "incrby", k)
			c.out.int(n + delta)
			return
		}
	}
	c.out.error("UNAVAILABLE too much contention on the key, try again")
}
