// Package record is the packed session record shared by the persistent
// session stores (session/file and session/bolt), and the logic of the
// session operations on it.
//
// A Record holds one session (its expiry, id, data and props) or one
// global, and encodes to a self-checking byte string (Record.Encode,
// Decode): a fixed header that a sweep can read alone (DecodeHeader), the
// body, and a CRC-32C over both. Decoding checks every length, so bytes
// read back from a disk are never trusted.
//
// Sessions implements the per-session methods of session.Store (Save, Get,
// Evict, Clear, props, SetExpiry, TTL) as changes to a Record. A store
// provides only where records live: an update and a read of one session's
// record under the store's own locking or transactions.
package record
