package server

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH, with Redis 7's
// replies.
//
// # Atomicity
//
// EXEC runs the queued commands holding the node's script gate
// exclusively (as a script does): no data command of any client of the
// node, no operation another member sends, and no script runs between two
// of them. Their writes replicate as one unit (Batcher), after the gate is
// released; reads of the keys they wrote wait for it.
//
// # WATCH
//
// WATCH records, per key, the number of the key's last write on the node
// that owns it (see watch.go), the owner's incarnation and partition
// generation, and whether the key existed. EXEC, on the owner and under
// the gate, aborts (a null reply) when any of them changed, or when a key
// that existed is gone (deleted, expired or flushed).
//
// # Grid
//
// Every key of a transaction and of its WATCH must be in one partition
// (CROSSSLOT otherwise, at WATCH or when the command is queued, which
// aborts the EXEC as a queueing error does); commands that read or write
// every partition (KEYS, SCAN, DBSIZE, FLUSHALL, FLUSHDB) cannot be
// queued. A member that does not own the partition forwards WATCH to the
// owner (which numbers the keys) and EXEC, with its whole queue, to the
// owner, which runs it as above.

// watchedKey is one key of WATCH.
type watchedKey struct {
	key         string
	incarnation uint64 // of the server that numbered the key
	generation  uint64 // of the key's partition there
	version     uint64
	existed     bool
}

// txState is a connection's transaction state.
type txState struct {
	multi   bool       // between MULTI and EXEC/DISCARD
	failed  bool       // a command was refused while queueing: EXEC aborts
	queue   [][][]byte // owned copies
	bytes   int        // queued, bounded by Config.MaxRequestBytes
	watches []watchedKey
	// partition holds the keys of the transaction and of its watches
	// (grid only), -1 until known; routeKey is one of those keys.
	partition int
	routeKey  []byte
}

// maxQueued bounds the commands of one transaction (and
// Config.MaxRequestBytes their bytes).
const maxQueued = 1 << 20

func (t *txState) clear() {
	*t = txState{partition: -1}
}

// discardTx ends the transaction and forgets the watches (EXEC, DISCARD,
// RESET and an aborted EXEC do).
func (c *conn) discardTx() { c.tx.clear() }

func (c *conn) multi([][]byte) {
	if c.tx.multi {
		c.out.error("ERR MULTI calls can not be nested")
		return
	}
	c.tx.multi = true
	c.out.ok()
}

func (c *conn) discard([][]byte) {
	if !c.tx.multi {
		c.out.error("ERR DISCARD without MULTI")
		return
	}
	c.discardTx()
	c.out.ok()
}

func (c *conn) unwatch([][]byte) {
	c.tx.watches = nil
	if !c.tx.multi && len(c.tx.queue) == 0 {
		c.tx.partition, c.tx.routeKey = -1, nil
	}
	c.out.ok()
}

// execAbort is Redis's reply to an EXEC refused before it runs (arity,
// NOAUTH): the transaction is discarded.
func (c *conn) execAbort(msg string) {
	c.discardTx()
	msg = strings.TrimPrefix(msg, "ERR ")
	c.out.error("EXECABORT Transaction discarded because of: " + msg)
}

// queue queues a command inside MULTI, or refuses it (the EXEC then
// aborts).
func (c *conn) queue(id int, args [][]byte) {
	if msg := c.txKeys(id, args); msg != "" {
		c.tx.failed = true
		c.out.error(msg)
		return
	}
	size := 0
	for _, a := range args {
		size += len(a) + 16
	}
	if len(c.tx.queue) >= maxQueued || c.tx.bytes+size > c.s.cfg.MaxRequestBytes {
		c.tx.failed = true
		c.out.error("ERR transaction too large: at most " + strconv.Itoa(maxQueued) + " commands and " +
			strconv.Itoa(c.s.cfg.MaxRequestBytes) + " bytes may be queued")
		return
	}
	c.tx.bytes += size
	owned := make([][]byte, len(args))
	for i, a := range args {
		owned[i] = append([]byte(nil), a...)
	}
	c.tx.queue = append(c.tx.queue, owned)
	c.out.simple("QUEUED")
}

// txKeys checks, in a grid, that the keys of a command joining the
// transaction (queued or watched) are in the transaction's partition, and
// records it. It returns the error reply, or "".
func (c *conn) txKeys(id int, args [][]byte) string {
	cl, ok := c.s.backend.(Cluster)
	if !ok {
		return ""
	}
	cmd := &c.s.table[id]
	switch {
	case id == cmdWatch, cmd.flags&flagNumKeys != 0: // their keys join the transaction
	case !cmd.partitioned():
		return ""
	case cmd.first <= 0:
		return "CROSSSLOT '" + cmd.name + "' reads or writes every partition: not allowed in a transaction in a grid"
	}
	p := c.tx.partition
	var first []byte // the first key
	n := 0
	for k := range cmd.keys(args) {
		kp, _, _ := cl.ClusterOwner(string(k))
		if p >= 0 && kp != p {
			return msgCrossSlot
		}
		if n == 0 {
			first = k
		}
		p = kp
		n++
	}
	if p >= 0 && c.tx.partition < 0 {
		c.tx.partition = p
		c.tx.routeKey = append([]byte(nil), first...)
	}
	return ""
}

// watch is WATCH key [key ...].
func (c *conn) watch(args [][]byte) {
	if c.tx.multi {
		c.out.error("ERR WATCH inside MULTI is not allowed")
		return
	}
	before, beforeKey := c.tx.partition, c.tx.routeKey
	if msg := c.txKeys(cmdWatch, args); msg != "" {
		c.out.error(msg)
		return
	}
	var fresh []string
	for _, k := range args[1:] {
		if !c.watching(k) && !contains(fresh, k) {
			fresh = append(fresh, string(k))
		}
	}
	if len(fresh) == 0 {
		c.out.ok()
		return
	}
	var ws []watchedKey
	var err error
	if owner := c.remoteOwner(c.tx.routeKey); owner != "" {
		ws, err = c.watchRemote(owner, fresh)
	} else {
		ws, err = c.s.watchLocal(c.bctx(), fresh)
	}
	if err != nil {
		c.tx.partition, c.tx.routeKey = before, beforeKey
		c.txError(err)
		return
	}
	c.tx.watches = append(c.tx.watches, ws...)
	c.out.ok()
}

func contains(ss []string, b []byte) bool {
	for _, s := range ss {
		if s == string(b) {
			return true
		}
	}
	return false
}

func (c *conn) watching(k []byte) bool {
	for _, w := range c.tx.watches {
		if w.key == string(k) {
			return true
		}
	}
	return false
}

// remoteOwner returns the member that owns key when it is not this one
// and the transaction must go there ("" otherwise).
func (c *conn) remoteOwner(key []byte) string {
	fw := c.s.forwarder
	if fw == nil || c.forwarded || key == nil {
		return ""
	}
	return fw.RemoteOwner(key)
}

// watchLocal numbers keys on this node.
func (s *Server) watchLocal(ctx context.Context, keys []string) ([]watchedKey, error) {
	s.versions.enable()
	ws := make([]watchedKey, len(keys))
	for i, k := range keys {
		ws[i] = watchedKey{key: k, incarnation: s.versions.incarnation, version: s.versions.version(k)}
		if s.watcher != nil {
			ws[i].generation = s.watcher.Generation(k)
		}
		kind, err := s.backend.KindOf(ctx, k)
		if err != nil {
			return nil, err
		}
		ws[i].existed = kind != session.KindNone
	}
	return ws, nil
}

// watchesClean reports whether no watched key changed since WATCH; called
// holding the gate.
func (c *conn) watchesClean(ws []watchedKey) (bool, error) {
	v := c.s.versions
	for _, w := range ws {
		if w.incarnation != v.incarnation || v.version(w.key) != w.version {
			return false, nil
		}
		if c.s.watcher != nil && c.s.watcher.Generation(w.key) != w.generation {
			return false, nil
		}
		if w.existed {
			kind, err := c.s.backend.KindOf(c.bctx(), w.key)
			if err != nil {
				return false, err
			}
			if kind == session.KindNone {
				return false, nil
			}
		}
	}
	return true, nil
}

// execCmd is EXEC.
func (c *conn) execCmd([][]byte) {
	if !c.tx.multi {
		c.out.error("ERR EXEC without MULTI")
		return
	}
	if c.tx.failed {
		c.discardTx()
		c.out.error("EXECABORT Transaction discarded because of previous errors.")
		return
	}
	queue, watches, route := c.tx.queue, c.tx.watches, c.tx.routeKey
	c.discardTx()
	if owner := c.remoteOwner(route); owner != "" {
		c.forwardTx(owner, queue, watches)
		return
	}
	c.runTx(queue, watches)
}

// runTx runs a transaction here, alone on the node.
func (c *conn) runTx(queue [][][]byte, watches []watchedKey) {
	g := &c.s.scripts.gate
	held := c.gateHeld
	if !held {
		g.lockAll()
	}
	unlock := func() {
		if !held {
			g.unlockAll()
		}
	}
	clean, err := c.watchesClean(watches)
	if err != nil || !clean {
		unlock()
		if err != nil {
			c.txError(err)
		} else {
			c.out.nullArray()
		}
		return
	}
	var end func() error
	if c.ctx == nil {
		end = c.beginBatch()
	}
	c.out.array(len(queue))
	base := len(c.out.b)
	spans := make([][2]int, len(queue))
	c.gateHeld = true
	for i, args := range queue {
		start := len(c.out.b)
		c.exec(args)
		spans[i] = [2]int{start - base, len(c.out.b) - base}
	}
	c.gateHeld = held
	unlock()
	if c.authDelay > 0 && !held {
		time.Sleep(c.authDelay)
		c.authDelay = 0
	}
	if end == nil {
		return
	}
	if cerr := end(); cerr != nil {
		replies := append([]byte(nil), c.out.b[base:]...)
		c.out.b = c.out.b[:base]
		for i, args := range queue {
			if c.isWriteCommand(args) {
				c.out.b = append(c.out.b, unavailableReply(cerr)...)
			} else {
				c.out.b = append(c.out.b, replies[spans[i][0]:spans[i][1]]...)
			}
		}
	}
}

// Forwarded transactions. A member forwards a transaction to the owner of
// its partition as one batch: MULTI, then (when keys are watched) the
// internal command txWatched with their numbers, the queued commands, and
// EXEC. The owner runs it with execForwardedTx and answers EXEC's reply
// last. WATCH through a member that does not own the keys asks the owner
// to number them with the internal command txWatch. Internal commands
// travel only between members: a client that sends one gets "unknown
// command".
const (
	txWatch   = "__tx.watch"
	txWatched = "__tx.watched"
)

// watchRemote has owner number keys.
func (c *conn) watchRemote(owner string, keys []string) ([]watchedKey, error) {
	cmd := make([][]byte, 0, 1+len(keys))
	cmd = append(cmd, []byte(txWatch))
	for _, k := range keys {
		cmd = append(cmd, []byte(k))
	}
	replies, err := c.s.forwarder.Forward(c.s.ctx, owner, 2, [][][]byte{cmd})
	if err != nil || len(replies) != 1 {
		return nil, forwardError("WATCH", owner, err)
	}
	return parseWatchTokens(keys, replies[0])
}

func forwardError(what, owner string, err error) error {
	return &replyError{"UNAVAILABLE forwarding " + what + " to " + owner + " failed; it may or may not have run: " + errText(err)}
}

// replyError is an error whose text is an error reply.
type replyError struct{ msg string }

func (e *replyError) Error() string { return e.msg }

// watchTokens encodes the numbers of ws: "+incarnation generation version
// existed ..." (a simple string).
func watchTokens(ws []watchedKey) []byte {
	var b []byte
	b = append(b, '+')
	for i, w := range ws {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendUint(b, w.incarnation, 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, w.generation, 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, w.version, 10)
		if w.existed {
			b = append(b, " 1"...)
		} else {
			b = append(b, " 0"...)
		}
	}
	return append(b, '\r', '\n')
}

func parseWatchTokens(keys []string, reply []byte) ([]watchedKey, error) {
	s := strings.TrimSuffix(string(reply), "\r\n")
	if strings.HasPrefix(s, "-") {
		return nil, &replyError{s[1:]}
	}
	f := strings.Fields(strings.TrimPrefix(s, "+"))
	if !strings.HasPrefix(s, "+") || len(f) != 4*len(keys) {
		return nil, &replyError{"UNAVAILABLE WATCH: malformed reply of the key's owner"}
	}
	ws := make([]watchedKey, len(keys))
	for i := range keys {
		var n [3]uint64
		for j := range n {
			v, err := strconv.ParseUint(f[4*i+j], 10, 64)
			if err != nil {
				return nil, &replyError{"UNAVAILABLE WATCH: malformed reply of the key's owner"}
			}
			n[j] = v
		}
		ws[i] = watchedKey{key: keys[i], incarnation: n[0], generation: n[1], version: n[2], existed: f[4*i+3] == "1"}
	}
	return ws, nil
}

// forwardTx runs a transaction on owner and appends EXEC's reply.
func (c *conn) forwardTx(owner string, queue [][][]byte, watches []watchedKey) {
	cmds := make([][][]byte, 0, len(queue)+3)
	cmds = append(cmds, [][]byte{[]byte("multi")})
	if len(watches) > 0 {
		w := [][]byte{[]byte(txWatched)}
		for _, x := range watches {
			w = append(w, []byte(x.key),
				strconv.AppendUint(nil, x.incarnation, 10), strconv.AppendUint(nil, x.generation, 10),
				strconv.AppendUint(nil, x.version, 10))
			if x.existed {
				w = append(w, []byte("1"))
			} else {
				w = append(w, []byte("0"))
			}
		}
		cmds = append(cmds, w)
	}
	cmds = append(cmds, queue...)
	cmds = append(cmds, [][]byte{[]byte("exec")})
	replies, err := c.s.forwarder.Forward(c.s.ctx, owner, int(c.proto.Load()), cmds)
	if err != nil || len(replies) != len(cmds) {
		c.out.error(forwardError("the transaction", owner, err).Error())
		return
	}
	c.out.b = append(c.out.b, replies[len(replies)-1]...)
}

// execForwardedTx runs a transaction another member forwarded (see
// forwardTx) and returns one reply per command, EXEC's last.
func (s *Server) execForwardedTx(proto int, cmds [][][]byte) [][]byte {
	replies := make([][]byte, len(cmds))
	for i := range replies {
		replies[i] = []byte("+QUEUED\r\n")
	}
	last := len(cmds) - 1
	if last < 1 || len(cmds[last]) != 1 || lookup(cmds[last][0]) != cmdExec {
		replies[last] = errorReply("ERR malformed forwarded transaction")
		return replies
	}
	c := s.newForwardedConn(proto)
	body := cmds[1:last]
	var watches []watchedKey
	if len(body) > 0 && len(body[0]) > 0 && string(body[0][0]) == txWatched {
		w := body[0][1:]
		if len(w)%5 != 0 {
			replies[last] = errorReply("ERR malformed forwarded transaction")
			return replies
		}
		for i := 0; i < len(w); i += 5 {
			var n [3]uint64
			for j := range n {
				v, err := strconv.ParseUint(string(w[i+1+j]), 10, 64)
				if err != nil {
					replies[last] = errorReply("ERR malformed forwarded transaction")
					return replies
				}
				n[j] = v
			}
			watches = append(watches, watchedKey{key: string(w[i]), incarnation: n[0], generation: n[1],
				version: n[2], existed: string(w[i+4]) == "1"})
		}
		body = body[1:]
	}
	c.tx.multi = true
	c.tx.watches = watches
	for _, args := range body {
		if len(args) == 0 {
			c.tx.failed = true
			continue
		}
		c.exec(args)
	}
	if c.tx.routeKey != nil && s.forwarder != nil && s.forwarder.RemoteOwner(c.tx.routeKey) != "" {
		replies[last] = errorReply("TRYAGAIN the partition moved while the transaction was forwarded; it did not run")
		return replies
	}
	c.out.b = c.out.b[:0]
	c.exec(cmds[last])
	replies[last] = append([]byte(nil), c.out.b...)
	return replies
}

// txWatchReply numbers keys for a member that forwarded WATCH.
func (s *Server) txWatchReply(keys [][]byte) []byte {
	ks := make([]string, len(keys))
	for i, k := range keys {
		ks[i] = string(k)
	}
	ws, err := s.watchLocal(s.ctx, ks)
	if err != nil {
		c := s.newForwardedConn(2)
		c.storeError(err)
		return c.out.b
	}
	return watchTokens(ws)
}

// newForwardedConn returns the connection that runs a transaction another
// member forwarded: authenticated, without a socket.
func (s *Server) newForwardedConn(proto int) *conn {
	c := &conn{s: s, nc: noSocket{}, authed: true, forwarded: true, created: time.Now()}
	c.rd = newReader(noSocket{}, 0)
	c.lastCmd.Store(-1)
	c.setProto(proto)
	c.tx.clear()
	return c
}

// gateRead runs run holding a read lock of the gate: operations other
// members send wait for transactions and scripts (WriteWatcher).
func (s *Server) gateRead(run func()) {
	m := &s.scripts.gate.stripes[s.gateNext.Add(1)&(gateStripes-1)]
	m.RLock()
	defer m.RUnlock()
	run()
}

// numbered wraps the implementation of a data command: on a standalone
// node, once a client has watched, the keys a write wrote are numbered
// before the gate is released (so that an EXEC, which holds the gate,
// never sees a write applied but not yet numbered).
func numbered(fn func(*conn, [][]byte)) func(*conn, [][]byte) {
	return func(c *conn, args [][]byte) {
		mark := len(c.out.b)
		fn(c, args)
		if c.s.watcher != nil || !c.s.versions.enabled.Load() || c.out.failed {
			return
		}
		if id := lookup(args[0]); id >= 0 && c.s.table[id].flags&flagWrite != 0 {
			c.writtenKeys(&c.s.table[id], args, c.out.b[mark:])
		}
	}
}

// writtenKeys numbers the keys a write command wrote on a standalone node
// (a grid member's backend numbers every write itself). A command that
// answered that it changed nothing (DEL of a missing key, SET NX that did
// not set) numbers nothing, as Redis does not signal it.
func (c *conn) writtenKeys(cmd *command, args [][]byte, reply []byte) {
	if cmd.flags&flagNoopReply != 0 {
		switch string(reply) {
		case ":0\r\n", "$-1\r\n", "_\r\n":
			return
		}
	}
	for k := range cmd.keys(args) {
		c.s.versions.written(string(k))
	}
}

// txError appends the error reply of err.
func (c *conn) txError(err error) {
	var re *replyError
	if errors.As(err, &re) {
		c.out.error(re.msg)
		return
	}
	c.storeError(err)
}
