// Package client gives Go programs access to a sessiongrid over the network.
//
// [Remote] is a [session.Store] that speaks RESP (the Redis protocol) to one
// or more gridnode processes through github.com/redis/go-redis/v9, which
// supplies the connection pool and the socket timeouts. Every Store call is
// exactly one command, hence one round trip, from gridnode's
// command table (HSET, HGET, HGETALL, HEXISTS, HDEL, SESSION.*, PTTL,
// GLOBAL.*). Wrap it with [session.NewManager], or use [DialManager], to get
// the [session.Manager] bots program against.
//
// # Errors
//
// Error replies are mapped back to the session sentinels by their first word
// through one static table (WRONGTYPE, INVALIDID, INVALIDKEY, TOOLARGE,
// UNAVAILABLE); a nil reply to a single-value read is [session.ErrNotFound].
// Ids, keys and values are validated before anything is sent, so a bad call
// fails with the same sentinel as a local store and never reaches the wire.
//
// A request that got no reply (connection refused or reset, timeout, a ctx
// deadline) returns an error matching [session.ErrUnavailable] that also wraps
// the cause. Such a failed write is indeterminate: it may or may not have been
// applied. Reads are retried on transport errors up to
// RemoteConfig.MaxRetries times with backoff; writes are retried only when the
// request provably never left the client (the dial failed, or no pooled
// connection came free in time), because a write retried after its reply was
// lost could be applied twice, the second time after another client's newer
// write.
package client
