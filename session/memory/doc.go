// Package memory is the in-memory session store: the Dict-based manager of
// pywce done right, and the keyspace gridnode serves.
//
// The keyspace is split into shards (64 by default), each an
// open-addressing index behind its own RWMutex, so concurrent users do not
// contend on one lock. A key is a 48-byte entry and one byte block holding
// its id and its fields, packed (key and value lengths as varints, like
// Redis's listpack) while the session is small; a section moves to a map
// once it grows past 128 fields so that large sessions stay O(1) per field.
// fields.go and index.go describe the layout.
//
// Expired sessions are invisible at once: every read checks the deadline.
// Their memory is reclaimed by a background sweep (Config.SweepInterval)
// or by calling Sweep.
//
// Besides sessions the keyspace holds plain strings (session.Strings) and
// can be enumerated (session.Keyspace), which is what the RESP server needs.
package memory
