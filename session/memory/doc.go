// Package memory is the in-memory session store: the Dict-based manager of
// pywce done right, and the keyspace gridnode serves.
//
// The keyspace is split into shards (64 by default), each a map behind its
// own RWMutex, so concurrent users do not contend on one lock. A session's
// fields are packed into one byte slice (key and value lengths as varints,
// like Redis's listpack) while it is small, which keeps a typical chatbot
// session in one allocation, and move to a map once a session grows past
// 128 fields so that large sessions stay O(1) per field.
//
// Expired sessions are invisible at once: every read checks the deadline.
// Their memory is reclaimed by a background sweep (Config.SweepInterval)
// or by calling Sweep.
//
// Besides sessions the keyspace holds plain strings (session.Strings) and
// can be enumerated (session.Keyspace), which is what the RESP server needs.
package memory
