package server

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// Commands on keys of any kind (sessions and strings).

func (c *conn) del(args [][]byte) {
	keys := c.strs[:0]
	for _, k := range args[1:] {
		keys = append(keys, string(k))
	}
	if c.s.notifying(notifyGeneric) {
		c.delNotify(keys)
		return
	}
	n, err := c.s.backend.Delete(c.bctx(), keys...)
	clear(keys)
	c.strs = keys[:0]
	if err != nil {
		c.storeError(err)
		return
	}
	c.out.int(int64(n))
}

func (c *conn) exists(args [][]byte) {
	n := 0
	for _, k := range args[1:] {
		kind, err := c.s.backend.KindOf(c.bctx(), string(k))
		if err != nil {
			c.storeError(err)
			return
		}
		if kind != session.KindNone {
			n++
		}
	}
	c.out.int(int64(n))
}

func (c *conn) typeCmd(args [][]byte) {
	kind, err := c.s.backend.KindOf(c.bctx(), string(args[1]))
	if err != nil {
		c.storeError(err)
		return
	}
	c.out.simple(kind.String())
}

func (c *conn) expire(args [][]byte)  { c.expireGeneric(args, time.Second) }
func (c *conn) pexpire(args [][]byte) { c.expireGeneric(args, time.Millisecond) }

// expireGeneric runs EXPIRE (unit second) and PEXPIRE (millisecond): the
// key gets an absolute deadline; a deadline not in the future deletes it.
func (c *conn) expireGeneric(args [][]byte, unit time.Duration) {
	if len(args) > 3 {
		c.out.error("ERR Unsupported option " + string(args[3]))
		return
	}
	n, ok := parseInt(args[2])
	if !ok {
		c.out.error(msgNotInteger)
		return
	}
	if n > int64(math.MaxInt64/unit) {
		c.out.error("ERR invalid expire time in '" + strings.ToLower(string(args[0])) + "' command")
		return
	}
	key := string(args[1])
	if n <= 0 {
		deleted, err := c.s.backend.Delete(c.bctx(), key)
		if err != nil {
			c.storeError(err)
			return
		}
		if deleted > 0 {
			c.notify(notifyGeneric, "del", key)
		}
		c.out.int(int64(deleted))
		return
	}
	err := c.s.backend.SetExpiry(c.bctx(), key, session.Expiry{TTL: time.Duration(n) * unit})
	c.existedReply(err)
	if err == nil {
		c.notify(notifyGeneric, "expire", key)
	}
}

// existedReply appends 1 for success, 0 for ErrNotFound, or the error.
func (c *conn) existedReply(err error) {
	switch {
	case err == nil:
		c.out.int(1)
	case errors.Is(err, session.ErrNotFound):
		c.out.int(0)
	default:
		c.storeError(err)
	}
}

func (c *conn) ttl(args [][]byte)  { c.ttlGeneric(args, false) }
func (c *conn) pttl(args [][]byte) { c.ttlGeneric(args, true) }

func (c *conn) ttlGeneric(args [][]byte, ms bool) {
	d, err := c.s.backend.TTL(c.bctx(), string(args[1]))
	switch {
	case errors.Is(err, session.ErrNotFound):
		c.out.int(-2)
	case err != nil:
		c.storeError(err)
	case d < 0:
		c.out.int(-1)
	case ms:
		c.out.int(d.Milliseconds())
	default:
		c.out.int((d.Milliseconds() + 500) / 1000) // rounded as Redis does
	}
}

func (c *conn) persist(args [][]byte) {
	key := string(args[1])
	d, err := c.s.backend.TTL(c.bctx(), key)
	switch {
	case errors.Is(err, session.ErrNotFound):
		c.out.int(0)
		return
	case err != nil:
		c.storeError(err)
		return
	case d < 0:
		c.out.int(0)
		return
	}
	err = c.s.backend.SetExpiry(c.bctx(), key, session.Expiry{Idle: session.NoExpiry})
	if err == nil {
		c.notify(notifyGeneric, "persist", key)
	}
	c.existedReply(err)
}

// scanBatch is the COUNT the server uses for its own full scans.
const scanBatch = 1000

func (c *conn) keys(args [][]byte) {
	pattern := string(args[1])
	seen := make(map[string]struct{})
	var out []string
	var cursor uint64
	for {
		next, keys, err := c.s.backend.Scan(c.bctx(), cursor, pattern, scanBatch)
		if err != nil {
			c.storeError(err)
			return
		}
		for _, k := range keys {
			if _, dup := seen[k]; !dup {
				seen[k] = struct{}{}
				out = append(out, k)
			}
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	c.out.strings(out)
}

func (c *conn) scan(args [][]byte) {
	cursor, err := strconv.ParseUint(string(args[1]), 10, 64)
	if err != nil {
		c.out.error("ERR invalid cursor")
		return
	}
	pattern, count, typ := "", 10, ""
	for i := 2; i < len(args); i += 2 {
		if i+1 >= len(args) {
			c.syntaxError()
			return
		}
		switch strings.ToLower(string(args[i])) {
		case "match":
			pattern = string(args[i+1])
		case "count":
			n, ok := parseInt(args[i+1])
			if !ok {
				c.out.error(msgNotInteger)
				return
			}
			if n < 1 {
				c.syntaxError()
				return
			}
			count = int(min(n, 1<<20))
		case "type":
			typ = strings.ToLower(string(args[i+1]))
		default:
			c.syntaxError()
			return
		}
	}
	next, keys, err := c.s.backend.Scan(c.bctx(), cursor, pattern, count)
	if err != nil {
		if cursor != 0 && !isSentinel(err) {
			c.out.error("ERR invalid cursor")
			return
		}
		c.storeError(err)
		return
	}
	if typ != "" {
		kept := keys[:0]
		for _, k := range keys {
			kind, err := c.s.backend.KindOf(c.bctx(), k)
			if err != nil {
				c.storeError(err)
				return
			}
			if kind.String() == typ {
				kept = append(kept, k)
			}
		}
		keys = kept
	}
	c.out.array(2)
	c.out.bulkString(strconv.FormatUint(next, 10))
	c.out.strings(keys)
}

// isSentinel reports whether err wraps one of the session sentinels.
func isSentinel(err error) bool {
	for _, s := range []error{session.ErrNotFound, session.ErrInvalidID, session.ErrInvalidKey,
		session.ErrTooLarge, session.ErrWrongType, session.ErrClosed, session.ErrUnavailable} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func (c *conn) dbsize([][]byte) {
	n, err := c.s.backend.Len(c.bctx())
	if err != nil {
		c.storeError(err)
		return
	}
	c.out.int(int64(n))
}

// flushdb removes every key (sessions and strings); FLUSHALL also removes
// the globals. ASYNC and SYNC are accepted; the flush is synchronous.
func (c *conn) flushdb(args [][]byte) {
	if c.flushMode(args) && c.flushKeys() {
		c.out.ok()
	}
}

func (c *conn) flushall(args [][]byte) {
	if !c.flushMode(args) || !c.flushKeys() {
		return
	}
	globals, err := c.s.backend.Globals(c.bctx())
	if err != nil {
		c.storeError(err)
		return
	}
	for k := range globals {
		if _, err := c.s.backend.EvictGlobal(c.bctx(), k); err != nil {
			c.storeError(err)
			return
		}
	}
	c.out.ok()
}

func (c *conn) flushMode(args [][]byte) bool {
	if len(args) > 2 {
		c.syntaxError()
		return false
	}
	if len(args) == 2 {
		switch strings.ToLower(string(args[1])) {
		case "async", "sync":
		default:
			c.syntaxError()
			return false
		}
	}
	return true
}

func (c *conn) flushKeys() bool {
	var cursor uint64
	for {
		next, keys, err := c.s.backend.Scan(c.bctx(), cursor, "", scanBatch)
		if err == nil && len(keys) > 0 {
			_, err = c.s.backend.Delete(c.bctx(), keys...)
		}
		if err != nil {
			c.storeError(err)
			return false
		}
		if next == 0 {
			return true
		}
		cursor = next
	}
}
