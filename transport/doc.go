// Package transport is sessiongrid's internal node-to-node transport: the
// connections members use to forward requests to one another (global writes
// to the Raft leader, and session commands to a partition's owner).
//
// # Wire format
//
// A connection starts with a handshake (see handshake.go): the dialer sends a
// magic number, a protocol version, the channel it wants (this transport or
// Raft) and a nonce; the listener answers with its own nonce; the dialer
// proves it holds the cluster's shared secret with an HMAC of both nonces,
// and only then does the listener prove it too (an empty secret when none
// is configured). The listener reveals nothing computed from the secret to
// a peer that has not proved it. A peer that speaks another protocol — a
// RESP client, a gossip peer, a browser — gets a clear error line and is
// logged, and a dialer that reached the wrong port is told so in the
// returned error. Other member ports (Raft) run the same handshake through
// an Authenticator.
//
// After the handshake both directions carry frames (see frame.go): a 4-byte
// big-endian length, then a fixed header (kind, message type, request id,
// timeout) and the payload. Frames over the configured maximum are refused
// and the connection is closed.
//
// # Multiplexing
//
// One persistent connection per peer address carries any number of requests
// at once: each request has an id, and the response carries it back. A
// writer goroutine per connection writes every queued frame and flushes only
// when its queue is empty, so concurrent requests share system calls
// (batched writes). Each request has a deadline: the caller's context, or
// Config.CallTimeout.
//
// # Handlers
//
// Handlers are registered per message type before traffic arrives. Errors a
// handler returns travel as error frames with a code taken from one static
// table of session sentinels (errors.go), so errors.Is works across nodes.
package transport
