// Package session defines the session-manager contract of sessiongrid: the
// interface chatbot engines (pywce, jawce and their Go users) program against,
// whichever backend holds the data.
//
// Two layers:
//
//   - [Store] is the byte-level contract a backend implements (memory, file,
//     bbolt, bounded cache, Redis, the remote gridnode client, the embedded
//     grid peer). Every method is one atomic operation on one session.
//   - [Manager] is what a bot uses: arbitrary Go values encoded by a [Codec]
//     (JSON by default, so Python and Java clients read the same bytes), typed
//     reads through the generic functions [Get], [GetProp] and [GetGlobal], and
//     a session-scoped [Handle]. [NewManager] builds one over any Store.
//
// # Missing data
//
// A read of one value (Get, GetProp, GetGlobal) of a key or session that does
// not exist returns an error matching [ErrNotFound] (test with errors.Is).
// Reads of a collection (FetchAll, Props, Globals) of a missing session return
// an empty, non-nil map and a nil error. Removing something that is not there
// is not an error; the boolean or count results say whether anything was
// removed.
//
// # Expiry
//
// Every session has an idle timeout that slides on every write (and on reads
// when the store is configured to), 30 minutes by default as in both WCE
// engines, and an optional absolute deadline. Both can be overridden per
// session with [Manager.SetExpiry]. An expired session is invisible at once;
// its memory is reclaimed by a background sweep (see [Sweeper]).
//
// # Globals
//
// Globals live in their own namespace: no session id, including "global", can
// ever read or overwrite them.
package session
