// Package file is a session store that keeps one file per session under a
// directory: jawce's FileBasedSessionManager without its bugs. It
// implements session.Store and session.Sweeper; wrap it with
// session.NewManager.
//
// # Durability
//
// Every operation reads the session's file, changes it in memory and writes
// the whole session to a temporary file in the same directory, which is
// fsynced (Config.Fsync, on in DefaultConfig), renamed over the old file,
// and then the directory is fsynced. A crash at any point leaves the old
// session or the new one, never a torn one; a write acknowledged with Fsync
// on survives a power loss. Every file carries a CRC-32C: a damaged file is
// reported (ErrCorrupt), never returned as data or silently overwritten.
//
// # File names
//
// A file is named by the first 16 bytes of the SHA-256 of the session id in
// lowercase hex, under a fan-out directory named by its first byte
// (sessions/ab/ab12…): ids of any length (up to session.MaxIDLen) and any
// bytes ("../x", "A" and "a", "con", NUL) map to safe, distinct names on
// case-insensitive filesystems too. The full id is stored in the file and
// compared on every read; ids whose hashes collide form a chain of files
// <hash>, <hash>.1, … Globals live in their own directory (globals/), so no
// session id, not even "global", can reach them.
//
// # Concurrency and sharing
//
// Operations on one session are serialized by a lock stripe chosen by the
// hash (1024 stripes), so goroutines working on different sessions proceed
// in parallel. The store is single-process: New takes an exclusive flock
// (LOCK_EX|LOCK_NB) on Dir/LOCK and a second opener, in this process or
// another, gets an error matching ErrLocked that names the holder's pid.
// The kernel releases the lock when the holder exits, even by SIGKILL.
// Hence the package needs a Unix system; elsewhere New returns an error.
//
// # Expiry
//
// A session's touch time, idle timeout and deadline are in its file's fixed
// header. Expired sessions are invisible at once; their files are deleted
// by Sweep (run by a background goroutine every Config.SweepInterval),
// which reads only the header of each file, or by the next write to them.
//
// # Where it fits
//
// Durable across restarts, no server to run, readable with standard tools.
// Each write costs a file rewrite and (with Fsync) two fsyncs, so it suits
// one bot instance with modest traffic; a sweep is O(number of sessions).
package file
