package server

import "strings"

// What gridnode does not store: a key is a hash (a session) or a string.
// The commands of Redis's other types get an error that says so, not
// "unknown command", and SELECT of another database is refused.

// msgOneDB is the reply to SELECT (and COPY ... DB) of a database other
// than 0.
const msgOneDB = "ERR DB index is out of range: gridnode has one database, 0"

// msgUnsupportedType starts the reply to a command of a type gridnode does
// not store.
const msgUnsupportedType = "ERR unsupported data type: gridnode stores hashes (sessions) and strings only; lists, sets, sorted sets and streams are not supported ('"

// unsupportedTypes maps the commands of lists, sets, sorted sets and
// streams to their type.
var unsupportedTypes = func() map[string]string {
	m := map[string]string{}
	for typ, names := range map[string]string{
		"list": "lpush rpush lpushx rpushx lpop rpop lrange llen lindex lset lrem ltrim linsert lpos lmove blmove " +
			"rpoplpush brpoplpush blpop brpop lmpop blmpop sort sort_ro",
		"set": "sadd srem smembers sismember smismember scard spop srandmember sinter sintercard sinterstore " +
			"sunion sunionstore sdiff sdiffstore smove sscan",
		"sorted set": "zadd zrem zrange zrangestore zrangebyscore zrevrangebyscore zrangebylex zrevrangebylex zrevrange " +
			"zcard zscore zmscore zincrby zrank zrevrank zcount zlexcount zpopmin zpopmax bzpopmin bzpopmax zmpop bzmpop " +
			"zrandmember zremrangebyrank zremrangebyscore zremrangebylex zunion zunionstore zinter zinterstore " +
			"zintercard zdiff zdiffstore zscan",
		"stream": "xadd xrange xrevrange xlen xread xreadgroup xgroup xack xclaim xautoclaim xpending xtrim xdel xinfo xsetid",
	} {
		for _, n := range strings.Fields(names) {
			m[n] = typ
		}
	}
	return m
}()

// unsupportedType appends the error of a command of an unsupported type
// and reports whether name is one.
func (c *conn) unsupportedType(name []byte) bool {
	if len(name) > maxCommandName {
		return false
	}
	lower := strings.ToLower(string(name))
	typ, ok := unsupportedTypes[lower]
	if !ok {
		return false
	}
	c.s.metrics.unknown.Inc()
	c.out.error(msgUnsupportedType + lower + "' is a " + typ + " command)")
	return true
}
