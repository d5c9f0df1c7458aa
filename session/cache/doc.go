// Package cache is the bounded session cache: the Caffeine manager of jawce
// done right, on github.com/maypok86/otter/v2 (Caffeine's W-TinyLFU design in
// Go).
//
// # An evicted session is gone
//
// This backend is a cache, not a store. It holds at most Config.MaxSessions
// sessions, or at most Config.MaxBytes bytes of session payload (ids, keys
// and values), and when a write would exceed the bound it evicts the
// sessions least likely to be used again, by frequency and recency. An
// evicted session is removed entirely, data, props and expiry override
// together, exactly as if it had been cleared: later reads report it
// missing. A new session may also be refused admission at once when the
// cache is full of sessions used more often than it. Use it where losing a
// conversation's state is acceptable (the bot starts the user over) and a
// hard memory bound matters more; use session/memory, session/bbolt or
// the grid when it is not. Stats counts evictions apart from expirations.
//
// # Expiry
//
// Every session has an idle timeout (Config.DefaultIdle, 30 minutes by
// default) that every write slides, and reads too with
// Config.TouchOnRead, plus the per-session override of SetExpiry (an idle
// timeout and an absolute deadline). The deadline of a session is
// computed by this package and handed to otter as the entry's expiry, so
// otter's timer wheel reclaims expired sessions in the background; every
// read also checks the deadline itself, so an expired session is invisible
// at once whatever the wheel's granularity (about a second). The clock is
// Config.Now, shared with otter, so tests drive both with a fake clock.
// The jawce Caffeine manager's bug, a timer never refreshed by writes,
// cannot happen here: every write computes a new deadline.
//
// # Atomicity
//
// A session is an immutable value (copy on write): every operation builds
// the next value inside otter's Compute, under the lock of the session's
// hash-table bucket, so concurrent writers of one session (two SaveProp of
// different props, a Save racing an Evict) never lose each other's
// changes, and readers see whole values without locking.
//
// Globals live in a plain map beside the cache: they are never evicted
// and no session id can reach them.
package cache
