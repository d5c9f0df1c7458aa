// Package server is gridnode's RESP server: it serves a session keyspace
// (a [Backend]: sessions as Redis hashes, plain strings, props and globals)
// over the Redis protocol, RESP2 and RESP3, so that redis-cli, redis-py,
// Jedis, go-redis and redis-benchmark work unchanged. It also provides the
// operations endpoint (/healthz, /readyz, /metrics) as an http.Handler.
//
// The server is a library: tests and the cluster start it in-process with
// [New] and [Server.Serve] on any listener, and stop it with
// [Server.Shutdown].
//
// # Design
//
// One goroutine per connection reads requests with its own RESP parser over
// a per-connection buffer; arguments are slices of that buffer (no copy),
// valid until the next request is parsed. Replies are appended to a
// per-connection output buffer that is written to the socket only when no
// complete request is left in the input buffer, so a pipeline is answered
// with one write. Commands are found by a switch on the case-folded name
// (no allocation) and each has precomputed metric instruments.
//
// # Errors
//
// Errors are Redis-style replies whose first word is a code that the
// remote client maps back to the session sentinels: WRONGTYPE, INVALIDID,
// INVALIDKEY, TOOLARGE, UNAVAILABLE, NOAUTH, WRONGPASS, and ERR for syntax,
// arity and unknown commands. Protocol errors (malformed frames, requests
// over Config.MaxRequestBytes) are answered with "-ERR Protocol error: ..."
// and the connection is closed, as Redis does; nothing reaches the store.
package server
