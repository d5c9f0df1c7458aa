// Package redis is the Redis session store: frappe-pywce's Redis manager done
// right, on github.com/redis/go-redis/v9 (imported as goredis), against a
// real redis-server or a gridnode.
//
// # Layout on redis-server (ModeScript)
//
// Each session is one Redis hash, {Prefix}s:{id}, whose fields carry a
// one-letter type tag:
//
//	d:{key}  a data key            (Save, Get, GetAll, Evict, Clear)
//	p:{key}  a prop                 (SaveProp, GetProp, Props, EvictProp)
//	m:i      the idle override, ms  (SetExpiry; -1 = never idles out)
//	m:d      the absolute deadline  (SetExpiry; Unix ms of the server's clock)
//
// Globals are the hash {Prefix}g. A session id comes after the "s:" tag, so
// no id (not even "global" or "g") can reach the globals or another
// session's key, and the tags keep data keys, props and metadata apart
// whatever their names.
//
// Every contract call is one round trip. Reads are plain commands (HGET,
// HGETALL, HEXISTS, PTTL), and so are a full Clear (DEL) and the globals'
// calls; the other session writes are Lua scripts run with EVALSHA (loaded
// on first use with EVAL), so each write is atomic on the server and slides
// the expiry in the same step: the script reads the session's idle override
// and deadline and sets PEXPIREAT to the earlier of now+idle and the
// deadline, with the server's clock (TIME), so clients with skewed clocks
// agree. Redis itself then hides and reclaims expired sessions; there is no
// sweeper. With Config.TouchOnRead, reads become scripts too, to slide. A
// Save or Evict of more fields than Lua can unpack at once runs in chunks
// inside its one script, so it stays one atomic step whatever its size.
//
// # Gridnode (ModeGridnode)
//
// gridnode speaks the session model natively: a RESP key is a session, its
// hash fields are the data keys, and props, expiry and globals have their
// own commands (SESSION.PROPSET, SESSION.EXPIRY, GLOBAL.SET ...). In this
// mode the store sends exactly those commands, one per contract call, and
// no scripts; the node applies idle timeouts and its own read policy, so
// DefaultIdle and TouchOnRead are not settings of this client there.
//
// # Where it fits
//
// Sessions shared by every bot process on any machine, bounded by the
// server's memory (maxmemory), durable as the server is configured (RDB or
// AOF); each call costs one network round trip, so it is an order of
// magnitude slower than the in-process backends. Use it where a Redis is
// already run, or point it at gridnode for replication without scripts.
//
// Errors: a missing value is session.ErrNotFound; a key holding another
// type session.ErrWrongType; gridnode's error codes map to the session
// sentinels through one table (errors.go); a failed connection, a timeout
// or a cancelled context is session.ErrUnavailable (a write may then have
// been applied or not).
package redis
