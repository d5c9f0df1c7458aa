package server

import (
	"errors"
	"math"
	"math/rand/v2"
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

func (c *conn) expire(args [][]byte)    { c.expireGeneric(args, time.Second, false) }
func (c *conn) pexpire(args [][]byte)   { c.expireGeneric(args, time.Millisecond, false) }
func (c *conn) expireat(args [][]byte)  { c.expireGeneric(args, time.Second, true) }
func (c *conn) pexpireat(args [][]byte) { c.expireGeneric(args, time.Millisecond, true) }

// Conditions of EXPIRE and its variants.
const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

// expireGeneric runs EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT with
// NX|XX|GT|LT, in Redis's order: the options, the number, the key. The key
// gets an absolute deadline; one not in the future deletes it. A key with
// no deadline counts as an infinite one for GT and LT.
func (c *conn) expireGeneric(args [][]byte, unit time.Duration, absolute bool) {
	name := strings.ToLower(string(args[0]))
	var flags int
	for _, o := range args[3:] {
		switch strings.ToLower(string(o)) {
		case "nx":
			flags |= expireNX
		case "xx":
			flags |= expireXX
		case "gt":
			flags |= expireGT
		case "lt":
			flags |= expireLT
		default:
			c.out.error("ERR Unsupported option " + string(clip(o, 128)))
			return
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		c.out.error("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		c.out.error("ERR GT and LT options at the same time are not compatible")
		return
	}
	when, ok := parseLL(args[2])
	if !ok {
		c.out.error(msgNotInteger)
		return
	}
	msgInvalid := "ERR invalid expire time in '" + name + "' command"
	if unit == time.Second {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.out.error(msgInvalid)
			return
		}
		when *= 1000
	}
	now := c.s.cfg.Now()
	if !absolute {
		base := now.UnixMilli()
		if when > math.MaxInt64-base {
			c.out.error(msgInvalid)
			return
		}
		when += base
	}
	key := string(args[1])
	current, exists, ok := c.expireTime(key)
	if !ok {
		return
	}
	if !exists {
		c.out.int(0)
		return
	}
	switch {
	case flags&expireNX != 0 && current != -1,
		flags&expireXX != 0 && current == -1,
		flags&expireGT != 0 && (current == -1 || when <= current),
		flags&expireLT != 0 && current != -1 && when >= current:
		c.out.int(0)
		return
	}
	nowMs := now.UnixMilli()
	if when <= nowMs {
		if n, ok := c.deleteKey(key); ok {
			c.out.int(int64(n))
		}
		return
	}
	ttl := time.Duration(math.MaxInt64)
	if when-nowMs < math.MaxInt64/int64(time.Millisecond) {
		ttl = time.Duration(when-nowMs) * time.Millisecond
	}
	err := c.s.backend.SetExpiry(c.bctx(), key, session.Expiry{TTL: ttl})
	c.existedReply(err)
	if err == nil {
		c.notify(notifyGeneric, "expire", key)
	}
}

// expireTime returns key's deadline in Unix milliseconds, -1 when it has
// none; exists is false for a missing key. On error it has appended the
// error reply.
func (c *conn) expireTime(key string) (ms int64, exists, ok bool) {
	d, err := c.s.backend.TTL(c.bctx(), key)
	switch {
	case errors.Is(err, session.ErrNotFound):
		return 0, false, true
	case err != nil:
		c.storeError(err)
		return 0, false, false
	case d < 0:
		return -1, true, true
	}
	// The clock is read after the store's: a deadline set at a whole
	// millisecond (or second) reads back as that one, never one before.
	return c.s.cfg.Now().Add(d).UnixMilli(), true, true
}

func (c *conn) expiretime(args [][]byte)  { c.expiretimeGeneric(args, false) }
func (c *conn) pexpiretime(args [][]byte) { c.expiretimeGeneric(args, true) }

// expiretimeGeneric is EXPIRETIME and PEXPIRETIME: the absolute deadline,
// -1 without one, -2 for a missing key.
func (c *conn) expiretimeGeneric(args [][]byte, ms bool) {
	at, exists, ok := c.expireTime(string(args[1]))
	switch {
	case !ok:
	case !exists:
		c.out.int(-2)
	case at == -1 || ms:
		c.out.int(at)
	default:
		c.out.int(at / 1000)
	}
}

// boolReply answers v, or the error reply of err.
func (c *conn) boolReply(v bool, err error) {
	if err != nil {
		c.storeError(err)
		return
	}
	c.out.bool(v)
}

// bytesMapReply answers m as a map in sorted order, or the error reply of
// err.
func (c *conn) bytesMapReply(m map[string][]byte, err error) {
	if err != nil {
		c.storeError(err)
		return
	}
	c.out.bytesMap(m)
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
			n, ok := c.scanCount(args[i+1])
			if !ok {
				return
			}
			count = n
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

func (c *conn) touch(args [][]byte) { c.exists(args) }

// keyValue is a whole key read for RENAME and COPY.
type keyValue struct {
	kind  session.Kind
	str   []byte            // KindString
	data  map[string][]byte // KindSession
	props map[string][]byte // KindSession
	ttl   time.Duration     // time left; negative for none
}

// readKey reads a whole key; kind is KindNone when it is missing. On
// error it has appended the error reply.
func (c *conn) readKey(key string) (kv keyValue, ok bool) {
	ctx := c.bctx()
	kind, err := c.s.backend.KindOf(ctx, key)
	if err != nil {
		c.storeError(err)
		return kv, false
	}
	kv.kind = kind
	switch kind {
	case session.KindNone:
		return kv, true
	case session.KindString:
		kv.str, err = c.s.backend.GetString(ctx, key)
	default:
		if kv.data, err = c.s.backend.GetAll(ctx, key); err == nil {
			kv.props, err = c.s.backend.Props(ctx, key)
		}
	}
	if err == nil {
		kv.ttl, err = c.s.backend.TTL(ctx, key)
	}
	if errors.Is(err, session.ErrNotFound) { // expired while read
		return keyValue{}, true
	}
	if err != nil {
		c.storeError(err)
		return kv, false
	}
	return kv, true
}

// readExistingKey is readKey for a reply about an existing key: for a
// missing one it has appended a null reply, and ok is false.
func (c *conn) readExistingKey(key string) (kv keyValue, ok bool) {
	kv, ok = c.readKey(key)
	if ok && kv.kind == session.KindNone {
		c.out.null()
		return kv, false
	}
	return kv, ok
}

// writeKey replaces key with kv. A string keeps its deadline; a session
// gets its data and props and, when the source had a deadline, the time
// it had left as its absolute deadline.
func (c *conn) writeKey(key string, kv keyValue) bool {
	ctx := c.bctx()
	if _, err := c.s.backend.Delete(ctx, key); err != nil {
		c.storeError(err)
		return false
	}
	var err error
	switch kv.kind {
	case session.KindString:
		opt := session.SetOptions{}
		if kv.ttl > 0 {
			opt.TTL = kv.ttl
		}
		_, err = c.s.backend.SetString(ctx, key, kv.str, opt)
	case session.KindSession:
		fields := make([]session.Field, 0, len(kv.data))
		for _, k := range sortedKeys(kv.data) {
			fields = append(fields, session.Field{Key: k, Value: kv.data[k]})
		}
		if len(fields) > 0 {
			_, err = c.s.backend.Save(ctx, key, fields...)
		}
		for _, k := range sortedKeys(kv.props) {
			if err == nil {
				err = c.s.backend.SaveProp(ctx, key, k, kv.props[k])
			}
		}
		if err == nil && kv.ttl > 0 {
			err = c.s.backend.SetExpiry(ctx, key, session.Expiry{TTL: kv.ttl})
		}
	}
	if err != nil {
		c.storeError(err)
		return false
	}
	return true
}

func (c *conn) rename(args [][]byte)   { c.renameGeneric(args, false) }
func (c *conn) renamenx(args [][]byte) { c.renameGeneric(args, true) }

// renameGeneric is RENAME and RENAMENX: owned, so the read of the source,
// the write of the destination and the delete of the source are one step.
func (c *conn) renameGeneric(args [][]byte, nx bool) {
	src, dst := string(args[1]), string(args[2])
	kv, ok := c.readKey(src)
	if !ok {
		return
	}
	if kv.kind == session.KindNone {
		c.out.error("ERR no such key")
		return
	}
	if src == dst {
		if nx {
			c.out.int(0)
		} else {
			c.out.ok()
		}
		return
	}
	if nx && c.refuseTaken(dst) {
		return
	}
	if !c.writeKey(dst, kv) {
		return
	}
	if _, err := c.s.backend.Delete(c.bctx(), src); err != nil {
		c.storeError(err)
		return
	}
	if nx {
		c.out.int(1)
	} else {
		c.out.ok()
	}
}

// refuseTaken appends 0 and reports true when key exists (RENAMENX, COPY
// without REPLACE and MSETNX do not overwrite). On error it has appended
// the error reply, and reports true too.
func (c *conn) refuseTaken(key string) bool {
	kind, err := c.s.backend.KindOf(c.bctx(), key)
	switch {
	case err != nil:
		c.storeError(err)
		return true
	case kind != session.KindNone:
		c.out.int(0)
		return true
	}
	return false
}

// copyCmd is COPY source destination [DB 0] [REPLACE].
func (c *conn) copyCmd(args [][]byte) {
	replace := false
	for i := 3; i < len(args); i++ {
		switch o := strings.ToLower(string(args[i])); {
		case o == "replace":
			replace = true
		case o == "db" && i+1 < len(args):
			i++
			db, ok := parseLL(args[i])
			if !ok || db < math.MinInt32 || db > math.MaxInt32 {
				c.out.error(msgNotInteger)
				return
			}
			if db != 0 {
				c.out.error(msgOneDB)
				return
			}
		default:
			c.syntaxError()
			return
		}
	}
	src, dst := string(args[1]), string(args[2])
	if src == dst {
		c.out.error("ERR source and destination objects are the same")
		return
	}
	kv, ok := c.readKey(src)
	if !ok {
		return
	}
	if kv.kind == session.KindNone {
		c.out.int(0)
		return
	}
	if !replace && c.refuseTaken(dst) {
		return
	}
	if c.writeKey(dst, kv) {
		c.out.int(1)
	}
}

// randomSample bounds the keys RANDOMKEY draws from.
const randomSample = 1024

// randomkey is RANDOMKEY: a key drawn uniformly from the first
// randomSample keys of a scan (nil when the keyspace is empty).
func (c *conn) randomkey([][]byte) {
	var (
		pick   string
		seen   int
		cursor uint64
	)
	for seen < randomSample {
		next, keys, err := c.s.backend.Scan(c.bctx(), cursor, "", 128)
		if err != nil {
			c.storeError(err)
			return
		}
		for _, k := range keys {
			seen++
			if rand.IntN(seen) == 0 {
				pick = k
			}
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	if seen == 0 {
		c.out.null()
		return
	}
	c.out.bulkString(pick)
}

// toucher is the optional capability of a Backend that knows when a key
// was last accessed (OBJECT IDLETIME).
type toucher interface {
	Touched(key string) (time.Time, bool)
}

// object is OBJECT ENCODING|IDLETIME|REFCOUNT|FREQ|HELP key.
func (c *conn) object(args [][]byte) {
	sub := strings.ToLower(string(args[1]))
	if sub == "help" && len(args) == 2 {
		c.out.strings([]string{
			"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"ENCODING <key>", "    Return the kind of internal representation used in order to store the value",
			"    associated with a <key>.",
			"FREQ <key>", "    Return the access frequency index of the <key>. The returned integer is",
			"    proportional to the logarithm of the recent access frequency of the key.",
			"IDLETIME <key>", "    Return the idle time of the <key>, that is the approximated number of",
			"    seconds elapsed since the last access to the key.",
			"REFCOUNT <key>", "    Return the number of references of the value associated with the specified",
			"    <key>.",
			"HELP", "    Print this help.",
		})
		return
	}
	if !c.subcommand("object", args, 3, "encoding", "idletime", "refcount", "freq") {
		return
	}
	key := string(args[2])
	kv, ok := c.readExistingKey(key)
	if !ok {
		return
	}
	switch sub {
	case "encoding":
		c.out.bulkString(encodingOf(kv))
	case "refcount":
		c.out.int(1)
	case "freq":
		c.out.error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
	default:
		var idle int64
		if t, ok := c.s.backend.(toucher); ok {
			if at, ok := t.Touched(key); ok {
				idle = int64(c.s.cfg.Now().Sub(at) / time.Second)
			}
		}
		c.out.int(max(idle, 0))
	}
}

// encodingOf names the encoding Redis 7 would use for kv.
func encodingOf(kv keyValue) string {
	if kv.kind == session.KindString {
		if len(kv.str) <= 20 {
			if _, ok := parseLL(kv.str); ok {
				return "int"
			}
		}
		if len(kv.str) <= 44 {
			return "embstr"
		}
		return "raw"
	}
	if len(kv.data) > listpackFields {
		return "hashtable"
	}
	for k, v := range kv.data {
		if len(k) > 64 || len(v) > 64 {
			return "hashtable"
		}
	}
	return "listpack"
}

// memoryCmd is MEMORY USAGE key [SAMPLES n] (an estimate: the bytes of
// the key, its values and a fixed overhead per entry) and MEMORY HELP.
func (c *conn) memoryCmd(args [][]byte) {
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "help" && len(args) == 2:
		c.out.strings([]string{
			"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"USAGE <key> [SAMPLES <count>]",
			"    Return memory in bytes used by <key> and its value. Nested values are",
			"    sampled up to <count> times (default: 5, 0 means sample all).",
			"HELP", "    Print this help.",
		})
		return
	case !c.subcommand("memory", args, -3, "usage"):
		return
	}
	for i := 3; i < len(args); i += 2 {
		if !strings.EqualFold(string(args[i]), "samples") || i+1 >= len(args) {
			c.syntaxError()
			return
		}
		if n, ok := parseLL(args[i+1]); !ok || n < 0 {
			c.out.error(msgNotInteger)
			return
		}
	}
	key := string(args[2])
	kv, ok := c.readExistingKey(key)
	if !ok {
		return
	}
	const entryOverhead, fieldOverhead = 56, 16
	n := entryOverhead + len(key) + len(kv.str)
	for k, v := range kv.data {
		n += fieldOverhead + len(k) + len(v)
	}
	for k, v := range kv.props {
		n += fieldOverhead + len(k) + len(v)
	}
	c.out.int(int64(n))
}

// scanCount parses the COUNT of SCAN and HSCAN (at most 2^20); on a bad
// count it has appended Redis's error.
func (c *conn) scanCount(arg []byte) (int, bool) {
	n, ok := parseInt(arg)
	if !ok {
		c.out.error(msgNotInteger)
		return 0, false
	}
	if n < 1 {
		c.syntaxError()
		return 0, false
	}
	return int(min(n, 1<<20)), true
}

// lenReply answers the length of a value read with err: 0 for a missing
// key or field (STRLEN, HSTRLEN).
func (c *conn) lenReply(v []byte, err error) {
	switch {
	case err == nil:
		c.out.int(int64(len(v)))
	case errors.Is(err, session.ErrNotFound):
		c.out.int(0)
	default:
		c.storeError(err)
	}
}
