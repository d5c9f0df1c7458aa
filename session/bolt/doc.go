// Package bolt is a session store in an embedded B+tree file
// (go.etcd.io/bbolt, LMDB's design in pure Go): jawce's LMDBSessionManager
// without its 1 KB value cliff and its shared buffers. It implements
// session.Store and session.Sweeper; wrap it with session.NewManager.
//
// # Layout, and why
//
// One key per session, holding a packed record: the session's expiry
// (touch time, idle timeout, deadline), its id, its data keys and its props,
// with a CRC-32C (the same format as session/file). The alternative, a
// bucket per session with nested data and props buckets, was rejected for
// speed and space: every operation would descend three B+trees instead of
// one (session bucket, then "d" or "p", then the key), and a bucket whose
// contents exceed a quarter page (1 KiB) gets a root page of its own, so a
// typical 1–8 KB chatbot session would cost at least one mostly empty 4 KiB
// page per bucket. With packed records a read is one lookup and a scan of a
// few kilobytes, a write rewrites the record in the leaf bbolt copies on
// write anyway, and deleting a session is one Delete. The cost: a write of
// one key rewrites the whole record, O(session size) — fine for sessions of
// kilobytes, noticeable for sessions of many megabytes.
//
// Globals live in their own top-level bucket, out of reach of any session
// id ("global" included). An expiry index bucket keyed by (expiresAt big
// endian, session key) is updated in the same transaction as the session
// whenever its expiry moves, so Sweep reads only the part of the index that
// is due instead of scanning every session.
//
// Ids up to 512 bytes are keys as they are; longer ones (up to
// session.MaxIDLen, past bbolt's 32 KiB key limit) are keyed by a SHA-256
// prefix plus a sequence number, with the full id in the record compared on
// every lookup.
//
// # Transactions and durability
//
// Every operation is one bbolt transaction: a multi-key Save, an Evict of
// several keys or a Clear with a retain list is atomic. bbolt fsyncs each
// commit (unless Config.NoSync), so an acknowledged write survives a crash
// of the process or the machine. Config.Batch lets concurrent writes share
// a transaction and its fsync. Values up to bbolt's 2 GiB limit work; the
// per-value limit is Config.MaxValueSize (8 MiB by default).
//
// # Sharing
//
// bbolt takes an exclusive flock on the file: a second process (or a second
// Store in this one) waits up to Config.Timeout, then New fails with an
// error matching ErrLocked.
//
// # Where it fits
//
// Durable, one file, no server; reads are fast (memory-mapped B+tree) and
// writes are serialized by bbolt's single writer, each paying an fsync. A
// good fit for one bot instance that must keep sessions across restarts.
package bolt
