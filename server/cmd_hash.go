package server

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"unsafe"

	"github.com/sessiongrid/sessiongrid/internal/glob"

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
		fields = append(fields, session.Field{Key: c.str(args[i]), Value: args[i+1]})
	}
	added, err := c.s.backend.Save(c.bctx(), c.str(args[1]), fields...)
	clear(fields) // drop the references into the input buffer
	c.fields = fields[:0]
	if err != nil {
		c.storeError(err)
		return 0, false
	}
	return added, true
}

// str returns b as a string for a call of the backend's Save, Get or
// GetProp: aliasing b when the backend borrows strings (Borrower), a copy
// otherwise.
func (c *conn) str(b []byte) string {
	if c.s.borrows {
		return unsafe.String(unsafe.SliceData(b), len(b))
	}
	return string(b)
}

// checkValue applies Config.MaxValueSize before the backend is called.
func (c *conn) checkValue(v []byte) error {
	if len(v) <= c.s.cfg.MaxValueSize {
		return nil
	}
	return session.ValidateValue(v, c.s.cfg.MaxValueSize)
}

func (c *conn) hget(args [][]byte) {
	if ap := c.s.appender; ap != nil {
		v, err := ap.AppendValue(c.value[:0], c.str(args[1]), c.str(args[2]))
		c.valueReply(v, err)
		c.value = v[:0]
		if cap(c.value) > maxKeptValue {
			c.value = nil // do not keep a large value's buffer
		}
		return
	}
	v, err := c.s.backend.Get(c.bctx(), c.str(args[1]), c.str(args[2]))
	c.valueReply(v, err)
}

// maxKeptValue bounds the value buffer a connection keeps for HGET.
const maxKeptValue = 64 << 10

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
	all, ok := c.getAll(args[1])
	if !ok {
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
	c.lenReply(c.s.backend.Get(c.bctx(), string(args[1]), string(args[2])))
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
	c.boolReply(c.s.backend.Exists(c.bctx(), string(args[1]), string(args[2])))
}

// hincrby is HINCRBY key field increment: alone on the node (owned), so
// the read and the write of the field are one step.
func (c *conn) hincrby(args [][]byte) {
	delta, ok := parseLL(args[3])
	if !ok {
		c.out.error(msgNotInteger)
		return
	}
	old, exists, ok := c.hashField(args[1], args[2])
	if !ok {
		return
	}
	var n int64
	if exists {
		if n, ok = parseLL(old); !ok {
			c.out.error("ERR hash value is not an integer")
			return
		}
	}
	if n, ok = addInt64(n, delta); !ok {
		c.out.error(msgOverflow)
		return
	}
	if c.saveField(args[1], args[2], strconv.AppendInt(nil, n, 10)) {
		c.out.int(n)
	}
}

// hincrbyfloat is HINCRBYFLOAT key field increment, computed in 64-bit
// mantissa precision and formatted as Redis's long doubles are.
func (c *conn) hincrbyfloat(args [][]byte) {
	delta, ok := parseLongDouble(args[3])
	if !ok {
		c.out.error(msgNotFloat)
		return
	}
	if delta.IsInf() {
		c.out.error("ERR value is NaN or Infinity")
		return
	}
	old, exists, ok := c.hashField(args[1], args[2])
	if !ok {
		return
	}
	cur := newLongDouble()
	if exists {
		if cur, ok = parseLongDouble(old); !ok {
			c.out.error("ERR hash value is not a float")
			return
		}
	}
	sum, ok := addLongDouble(cur, delta)
	if !ok {
		c.out.error(msgNaNInf)
		return
	}
	if c.saveField(args[1], args[2], sum) {
		c.out.bulk(sum)
	}
}

// hsetnx is HSETNX key field value.
func (c *conn) hsetnx(args [][]byte) {
	_, exists, ok := c.hashField(args[1], args[2])
	if !ok {
		return
	}
	if exists {
		c.out.int(0)
		return
	}
	if err := c.checkValue(args[3]); err != nil {
		c.storeError(err)
		return
	}
	if c.saveField(args[1], args[2], args[3]) {
		c.out.int(1)
	}
}

// hashField reads one field of a hash: exists is false for a missing key
// or field. On error it has appended the error reply.
func (c *conn) hashField(key, field []byte) (v []byte, exists, ok bool) {
	v, err := c.s.backend.Get(c.bctx(), string(key), string(field))
	switch {
	case err == nil:
		return v, true, true
	case errors.Is(err, session.ErrNotFound):
		return nil, false, true
	default:
		c.storeError(err)
		return nil, false, false
	}
}

func (c *conn) saveField(key, field, v []byte) bool {
	if _, err := c.s.backend.Save(c.bctx(), string(key), session.Field{Key: string(field), Value: v}); err != nil {
		c.storeError(err)
		return false
	}
	return true
}

// listpackFields is the field count under which Redis keeps a hash in a
// listpack and HSCAN answers it whole.
const listpackFields = 128

// hscan is HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES]. The
// cursor is an offset in the hash's fields in sorted order; a hash Redis
// would keep as a listpack (at most 128 fields) is answered whole, as
// Redis does.
func (c *conn) hscan(args [][]byte) {
	cursor, ok := parseCursor(args[2])
	if !ok {
		c.out.error("ERR invalid cursor")
		return
	}
	all, ok := c.getAll(args[1])
	if !ok {
		return
	}
	if len(all) == 0 {
		c.out.array(2)
		c.out.bulkString("0")
		c.out.array(0)
		return
	}
	pattern, count, novalues := "", 10, false
	for i := 3; i < len(args); {
		left := len(args) - i
		switch o := strings.ToLower(string(args[i])); {
		case o == "count" && left >= 2:
			n, ok := c.scanCount(args[i+1])
			if !ok {
				return
			}
			count = n
			i += 2
		case o == "match" && left >= 2:
			pattern = string(args[i+1])
			i += 2
		case o == "novalues":
			novalues = true
			i++
		default:
			c.syntaxError()
			return
		}
	}
	keys := sortedKeys(all)
	var next uint64
	if len(keys) > listpackFields {
		start := min(cursor, uint64(len(keys)))
		end := min(start+uint64(count), uint64(len(keys)))
		keys = keys[start:end]
		if end < uint64(len(all)) {
			next = end
		}
	}
	out := make([][]byte, 0, 2*len(keys))
	for _, k := range keys {
		if pattern != "" && pattern != "*" && !glob.Match(pattern, k) {
			continue
		}
		out = append(out, []byte(k))
		if !novalues {
			out = append(out, all[k])
		}
	}
	c.out.array(2)
	c.out.bulkString(strconv.FormatUint(next, 10))
	c.out.array(len(out))
	for _, b := range out {
		c.out.bulk(b)
	}
}

// hrandfield is HRANDFIELD key [count [WITHVALUES]].
func (c *conn) hrandfield(args [][]byte) {
	if len(args) > 4 {
		c.syntaxError()
		return
	}
	withCount := len(args) >= 3
	var n int64
	withValues := false
	if withCount {
		var ok bool
		if n, ok = parseLL(args[2]); !ok {
			c.out.error(msgNotInteger)
			return
		}
		if n == math.MinInt64 {
			c.out.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
			return
		}
		if len(args) == 4 {
			if !strings.EqualFold(string(args[3]), "withvalues") {
				c.syntaxError()
				return
			}
			withValues = true
			if n < -math.MaxInt64/2 {
				c.out.error("ERR value is out of range")
				return
			}
		}
	}
	all, ok := c.getAll(args[1])
	if !ok {
		return
	}
	keys := sortedKeys(all)
	if !withCount {
		if len(keys) == 0 {
			c.out.null()
			return
		}
		c.out.bulkString(keys[rand.IntN(len(keys))])
		return
	}
	var pick []string
	switch {
	case n == 0 || len(keys) == 0:
	case n < 0: // repeats allowed
		if -n > int64(c.s.cfg.MaxRequestBytes) {
			c.out.error("ERR value is out of range")
			return
		}
		pick = make([]string, -n)
		for i := range pick {
			pick[i] = keys[rand.IntN(len(keys))]
		}
	default: // distinct
		rand.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		pick = keys[:min(int64(len(keys)), n)]
	}
	resp3 := c.out.resp3
	if withValues && !resp3 {
		c.out.array(2 * len(pick))
	} else {
		c.out.array(len(pick))
	}
	for _, k := range pick {
		if withValues && resp3 {
			c.out.array(2)
		}
		c.out.bulkString(k)
		if withValues {
			c.out.bulk(all[k])
		}
	}
}
