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
		if n, ok := c.deleteKey(key); ok {
			c.out.int(int64(n))
		}
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
		var n int64
		opt := session.SetOptions{Cond: session.SetIfNotExists}
		switch {
		case errors.Is(err, session.ErrNotFound):
		case err != nil:
			c.storeError(err)
			return
		default:
			if n, err = strconv.ParseInt(string(old), 10, 64); err != nil {
				c.out.error(msgNotInteger)
				return
			}
			opt = session.SetOptions{Cond: session.SetIfEqual, Match: old, KeepTTL: true}
		}
		sum, ok := addInt64(n, delta)
		if !ok {
			c.out.error(msgOverflow)
			return
		}
		res, err := c.s.backend.SetString(c.bctx(), k, strconv.AppendInt(nil, sum, 10), opt)
		if err != nil {
			c.storeError(err)
			return
		}
		if res.Applied {
			c.notify(notifyString, "incrby", k)
			c.out.int(sum)
			return
		}
	}
	c.out.error("UNAVAILABLE too much contention on the key, try again")
}

// updateString applies fn to the string in key atomically: a compare-and-
// set loop over SetString (IFEQ the value read, keeping the deadline; NX
// when the key was missing), so it holds even against writes that reach
// the owner's store without the gate. fn returns the new value, or an
// error reply (and nil); a nil value with no error leaves the key as it
// is. It returns the value written (or left), or false after an error reply.
func (c *conn) updateString(key []byte, fn func(old []byte, exists bool) ([]byte, string)) ([]byte, bool) {
	k := string(key)
	for range maxCASRetries {
		old, err := c.s.backend.GetString(c.bctx(), k)
		exists := err == nil
		if err != nil && !errors.Is(err, session.ErrNotFound) {
			c.storeError(err)
			return nil, false
		}
		v, msg := fn(old, exists)
		if msg != "" {
			c.out.error(msg)
			return nil, false
		}
		if v == nil {
			return old, true
		}
		if err := c.checkValue(v); err != nil {
			c.storeError(err)
			return nil, false
		}
		opt := session.SetOptions{Cond: session.SetIfNotExists}
		if exists {
			opt = session.SetOptions{Cond: session.SetIfEqual, Match: old, KeepTTL: true}
		}
		res, err := c.s.backend.SetString(c.bctx(), k, v, opt)
		if err != nil {
			c.storeError(err)
			return nil, false
		}
		if res.Applied {
			return v, true
		}
	}
	c.out.error("UNAVAILABLE too much contention on the key, try again")
	return nil, false
}

func (c *conn) incrbyfloat(args [][]byte) {
	delta, ok := parseLongDouble(args[2])
	if !ok {
		c.out.error(msgNotFloat)
		return
	}
	v, ok := c.updateString(args[1], func(old []byte, exists bool) ([]byte, string) {
		cur := newLongDouble()
		if exists {
			var ok bool
			if cur, ok = parseLongDouble(old); !ok {
				return nil, msgNotFloat
			}
		}
		sum, ok := addLongDouble(cur, delta)
		if !ok {
			return nil, msgNaNInf
		}
		return sum, ""
	})
	if ok {
		c.out.bulk(v)
	}
}

// msgTooBig is Redis's reply to a string that would grow over the limit.
const msgTooBig = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"

func (c *conn) appendCmd(args [][]byte) {
	v, ok := c.updateString(args[1], func(old []byte, _ bool) ([]byte, string) {
		if len(old)+len(args[2]) > c.s.cfg.MaxValueSize {
			return nil, msgTooBig
		}
		return append(append(make([]byte, 0, len(old)+len(args[2])), old...), args[2]...), ""
	})
	if ok {
		c.out.int(int64(len(v)))
	}
}

func (c *conn) strlen(args [][]byte) {
	c.lenReply(c.s.backend.GetString(c.bctx(), string(args[1])))
}

// getdel is GETDEL key: the value, deleted if it is still that value.
func (c *conn) getdel(args [][]byte) {
	k := string(args[1])
	for range maxCASRetries {
		v, err := c.s.backend.GetString(c.bctx(), k)
		if err != nil {
			c.valueReply(v, err)
			return
		}
		deleted, err := c.s.backend.DeleteIf(c.bctx(), k, true, v)
		if err != nil {
			c.storeError(err)
			return
		}
		if deleted {
			c.out.bulk(v)
			return
		}
	}
	c.out.error("UNAVAILABLE too much contention on the key, try again")
}

// getex is GETEX key [EX s | PX ms | EXAT t | PXAT t | PERSIST]. As in
// Redis, the options are checked before the key is read, their numbers
// after (a missing key answers nil whatever the number).
func (c *conn) getex(args [][]byte) {
	var (
		opt     string // ex, px, exat, pxat
		num     []byte
		persist bool
	)
	for i := 2; i < len(args); i++ {
		o := strings.ToLower(string(args[i]))
		switch {
		case o == "persist" && opt == "" && !persist:
			persist = true
		case (o == "ex" || o == "px" || o == "exat" || o == "pxat") && opt == "" && !persist && i+1 < len(args):
			i++
			opt, num = o, args[i]
		default:
			c.syntaxError()
			return
		}
	}
	k := string(args[1])
	v, err := c.s.backend.GetString(c.bctx(), k)
	if err != nil {
		c.valueReply(v, err)
		return
	}
	now := c.s.cfg.Now()
	var at time.Time
	if opt != "" {
		n, ok := parseLL(num)
		if !ok {
			c.out.error(msgNotInteger)
			return
		}
		unit := time.Millisecond
		if opt[0] == 'e' {
			unit = time.Second
		}
		ms := n
		if unit == time.Second {
			if n > math.MaxInt64/1000 {
				ms = -1
			} else {
				ms = n * 1000
			}
		}
		if len(opt) == 2 && ms > 0 {
			if ms > math.MaxInt64-now.UnixMilli() {
				ms = -1
			} else {
				ms += now.UnixMilli()
			}
		}
		if n <= 0 || ms <= 0 {
			c.out.error("ERR invalid expire time in 'getex' command")
			return
		}
		at = time.UnixMilli(ms)
	}
	switch {
	case opt != "" && !at.After(now):
		_, err = c.s.backend.Delete(c.bctx(), k)
	case opt != "":
		err = c.s.backend.SetExpiry(c.bctx(), k, session.Expiry{TTL: at.Sub(now)})
	case persist:
		err = c.s.backend.SetExpiry(c.bctx(), k, session.Expiry{Idle: session.NoExpiry})
	}
	if err != nil && !errors.Is(err, session.ErrNotFound) {
		c.storeError(err)
		return
	}
	c.out.bulk(v)
}

func (c *conn) getrange(args [][]byte) {
	start, ok1 := parseLL(args[2])
	end, ok2 := parseLL(args[3])
	if !ok1 || !ok2 {
		c.out.error(msgNotInteger)
		return
	}
	v, err := c.s.backend.GetString(c.bctx(), string(args[1]))
	if errors.Is(err, session.ErrNotFound) {
		c.out.bulk(nil)
		return
	}
	if err != nil {
		c.storeError(err)
		return
	}
	n := int64(len(v))
	if start < 0 && end < 0 && start > end {
		c.out.bulk(nil)
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.out.bulk(nil)
		return
	}
	c.out.bulk(v[start : end+1])
}

func (c *conn) setrange(args [][]byte) {
	off, ok := parseLL(args[2])
	if !ok {
		c.out.error(msgNotInteger)
		return
	}
	if off < 0 {
		c.out.error("ERR offset is out of range")
		return
	}
	val := args[3]
	v, ok := c.updateString(args[1], func(old []byte, exists bool) ([]byte, string) {
		if len(val) == 0 {
			return nil, "" // nothing to write: the length as it is
		}
		if off > int64(c.s.cfg.MaxValueSize)-int64(len(val)) { // no overflow: off may be huge
			return nil, msgTooBig
		}
		n := max(int64(len(old)), off+int64(len(val)))
		b := make([]byte, n)
		copy(b, old)
		copy(b[off:], val)
		return b, ""
	})
	if ok {
		c.out.int(int64(len(v)))
	}
}

// mset is MSET key value [key value ...]: owned, so atomic on the node
// and, in a grid, within the keys' one partition.
func (c *conn) mset(args [][]byte) {
	if len(args)%2 == 0 {
		c.arityError(strings.ToLower(string(args[0])))
		return
	}
	if c.msetPairs(args) {
		c.out.ok()
	}
}

func (c *conn) msetPairs(args [][]byte) bool {
	for i := 2; i < len(args); i += 2 {
		if err := c.checkValue(args[i]); err != nil {
			c.storeError(err)
			return false
		}
	}
	for i := 1; i < len(args); i += 2 {
		if _, err := c.s.backend.SetString(c.bctx(), string(args[i]), args[i+1], session.SetOptions{}); err != nil {
			c.storeError(err)
			return false
		}
	}
	return true
}

// msetnx is MSETNX key value [key value ...]: all or none, none if any
// key exists (of any type).
func (c *conn) msetnx(args [][]byte) {
	if len(args)%2 == 0 {
		c.arityError(strings.ToLower(string(args[0])))
		return
	}
	for i := 1; i < len(args); i += 2 {
		if c.refuseTaken(string(args[i])) {
			return
		}
	}
	if c.msetPairs(args) {
		c.out.int(1)
	}
}
