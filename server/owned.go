package server

import (
	"errors"
	"time"
)

// ErrNotSent is wrapped by a Forwarder's error when the request never
// left this member (the owner could not be reached): it may be sent again
// without running twice.
var ErrNotSent = errors.New("server: request not sent")

// Read-modify-write and multi-key commands (HINCRBY, APPEND, MSET,
// RENAME, COPY ...) are atomic within one partition:
//
//   - On a node, such a command runs alone, as a one-command script does:
//     it holds the script gate exclusively, so no data command of any client
//     of the node runs between its reads and its writes.
//   - Its writes replicate as one unit (Batcher): its reply waits for the
//     backups, and a failover never shows half of it.
//   - In a grid, every key of a multi-key command must be in one partition
//     (-CROSSSLOT otherwise, as Redis Cluster refuses keys of different
//     slots); a member that does not own that partition forwards the whole
//     command to the owner, where it runs as above.
//
// A standalone node holds every partition itself, so there it is atomic
// across any keys and never answers CROSSSLOT, as a standalone Redis.

// msgCrossSlot is Redis Cluster's reply to keys of different slots.
const msgCrossSlot = "CROSSSLOT Keys in request don't hash to the same slot"

// owned wraps the implementation of a command that must run where its
// keys live, alone on the node. keys returns the key arguments of a
// request (already checked for arity).
func owned(keys func(args [][]byte) [][]byte, fn func(*conn, [][]byte)) func(*conn, [][]byte) {
	fn = numbered(fn) // its writes count for WATCH, as a gated command's do
	return func(c *conn, args [][]byte) {
		if c.id < 0 || c.gateHeld {
			// A script's call, or a command of a transaction being run: the
			// caller holds the gate (taking it again would wait for itself)
			// and checked the partition of the keys when it was queued.
			fn(c, args)
			return
		}
		ks := keys(args)
		if !c.sameSlot(ks) {
			c.out.error(msgCrossSlot)
			return
		}
		if len(ks) > 0 && c.forwardToOwner(ks[0], args) {
			return
		}
		g := &scriptingOf(c.s).gate
		var end func() error
		if c.ctx == nil { // not inside a batch already: one unit of its own
			end = c.beginBatch()
		}
		mark := len(c.out.b)
		g.lockAll()
		func() {
			defer g.unlockAll()
			fn(c, args)
		}()
		if end != nil {
			if err := end(); err != nil {
				c.out.b = append(c.out.b[:mark], unavailableReply(err)...)
				c.out.failed = true
			}
		}
	}
}

// sameSlot reports whether every key is in one partition (always true on
// a standalone node).
func (c *conn) sameSlot(keys [][]byte) bool {
	cl, ok := c.s.backend.(Cluster)
	if !ok || len(keys) < 2 {
		return true
	}
	p0, _, _ := cl.ClusterOwner(string(keys[0]))
	for _, k := range keys[1:] {
		if p, _, _ := cl.ClusterOwner(string(k)); p != p0 {
			return false
		}
	}
	return true
}

// forwardToOwner runs args on the member that owns key, when that is
// another member, and appends its reply. It reports whether it forwarded.
// A request another member forwarded here runs here. A read whose owner
// cannot be reached is sent again once the partition has a new owner (a
// failover); a write is sent again only when the Forwarder says it was
// never sent (ErrNotSent), otherwise its outcome is reported unknown, as a
// pipelined batch's is.
func (c *conn) forwardToOwner(key []byte, args [][]byte) bool {
	fw := c.s.forwarder
	if fw == nil || c.forwarded {
		return false
	}
	owner := fw.RemoteOwner(key)
	if owner == "" {
		return false
	}
	id := lookup(args[0])
	read := id >= 0 && c.s.table[id].flags&flagReadonly != 0
	deadline := time.Now().Add(ownerRetryFor)
	for {
		replies, err := fw.Forward(c.s.ctx, owner, int(c.proto.Load()), [][][]byte{args})
		if err == nil && len(replies) == 1 {
			c.out.b = append(c.out.b, replies[0]...)
			if len(replies[0]) > 0 && replies[0][0] == '-' {
				c.out.failed = true
			}
			return true
		}
		notSent := errors.Is(err, ErrNotSent)
		if (read || notSent) && time.Now().Before(deadline) {
			// Wait for a new owner; a request never sent may go again to the
			// same one after a pause.
			for time.Now().Before(deadline) && c.s.ctx.Err() == nil && fw.RemoteOwner(key) == owner && !notSent {
				time.Sleep(ownerRetryPoll)
			}
			if notSent {
				time.Sleep(ownerRetryPoll)
			}
			if next := fw.RemoteOwner(key); (next != owner || notSent) && time.Now().Before(deadline) && c.s.ctx.Err() == nil {
				if next == "" {
					return false // this member owns it now
				}
				owner = next
				continue
			}
		}
		c.out.b = append(c.out.b, errorReply("UNAVAILABLE forwarding to "+owner+" failed; the command may or may not have run: "+errText(err))...)
		c.out.failed = true
		return true
	}
}

// A read forwarded to an owner that cannot be reached waits up to
// ownerRetryFor for the partition's next owner.
const (
	ownerRetryFor  = 10 * time.Second
	ownerRetryPoll = 10 * time.Millisecond
)

// Key positions of owned commands.

func firstKey(args [][]byte) [][]byte { return args[1:2] }

// everyKey: DEL, EXISTS, TOUCH, MGET (every argument is a key).
func everyKey(args [][]byte) [][]byte { return args[1:] }

// twoKeys: RENAME, RENAMENX, COPY (source and destination).
func twoKeys(args [][]byte) [][]byte { return args[1:3] }

// pairKeys: MSET, MSETNX (key value key value ...).
func pairKeys(args [][]byte) [][]byte {
	out := make([][]byte, 0, len(args)/2)
	for i := 1; i < len(args); i += 2 {
		out = append(out, args[i])
	}
	return out
}

// multiKey runs a command whose arguments are all keys (DEL, EXISTS,
// TOUCH, MGET): with one key as a plain data command, with several as an
// owned one (one partition, atomic on its owner).
func multiKey(fn func(*conn, [][]byte)) func(*conn, [][]byte) {
	return plainAt(2, fn, owned(everyKey, fn))
}

// expireWith runs EXPIRE and its variants: without a condition as a plain
// data command, with NX|XX|GT|LT as an owned one (the condition and the
// change are one step).
func expireWith(fn func(*conn, [][]byte)) func(*conn, [][]byte) {
	return plainAt(3, fn, owned(firstKey, fn))
}

// plainAt runs fn as a plain data command when it has n arguments (its
// name counted), and otherwise as ownedFn, its owned form.
func plainAt(n int, fn, ownedFn func(*conn, [][]byte)) func(*conn, [][]byte) {
	plain := gated(fn)
	return func(c *conn, args [][]byte) {
		if len(args) == n {
			plain(c, args)
			return
		}
		ownedFn(c, args)
	}
}

// isOwned reports whether args is a command that runs on its keys' owner
// (a member accepts it forwarded).
func (c *conn) isOwned(args [][]byte) bool {
	id := lookup(args[0])
	return id >= 0 && c.s.table[id].flags&flagOwned != 0
}
