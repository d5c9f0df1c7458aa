package server

import (
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Command indexes; lookup maps a name to one of them.
const (
	cmdPing = iota
	cmdEcho
	cmdHello
	cmdAuth
	cmdSelect
	cmdClient
	cmdInfo
	cmdCommand
	cmdConfig
	cmdQuit
	cmdReset
	cmdTime

	cmdHSet
	cmdHMSet
	cmdHGet
	cmdHMGet
	cmdHGetAll
	cmdHDel
	cmdHExists
	cmdHLen
	cmdHKeys
	cmdHVals
	cmdHStrLen

	cmdDel
	cmdUnlink
	cmdExists
	cmdType
	cmdExpire
	cmdPExpire
	cmdTTL
	cmdPTTL
	cmdPersist
	cmdKeys
	cmdScan
	cmdDBSize
	cmdFlushAll
	cmdFlushDB

	cmdGet
	cmdSet
	cmdSetEx
	cmdPSetEx
	cmdSetNX
	cmdDelEx
	cmdMGet
	cmdIncr
	cmdIncrBy
	cmdDecr
	cmdDecrBy

	cmdPropSet
	cmdPropGet
	cmdProps
	cmdPropDel
	cmdClear
	cmdExpiry
	cmdGlobalSet
	cmdGlobalGet
	cmdGlobalDel
	cmdGlobalAll
	cmdGlobalKeys

	cmdGridTable
	cmdGridOwner
	cmdGridMembers
	cmdGridSafe

	cmdEval
	cmdEvalSha
	cmdEvalRO
	cmdEvalShaRO
	cmdScript

	cmdSubscribe
	cmdPSubscribe
	cmdUnsubscribe
	cmdPUnsubscribe
	cmdPublish
	cmdPubsub
	// Issue 13: the missing hash, string, key and operations commands.
	cmdHIncrBy
	cmdHIncrByFloat
	cmdHSetNX
	cmdHScan
	cmdHRandField
	cmdIncrByFloat
	cmdAppend
	cmdStrLen
	cmdGetDel
	cmdGetEx
	cmdGetRange
	cmdSetRange
	cmdMSet
	cmdMSetNX
	cmdExpireAt
	cmdPExpireAt
	cmdExpireTime
	cmdPExpireTime
	cmdTouch
	cmdRename
	cmdRenameNX
	cmdCopy
	cmdRandomKey
	cmdObject
	cmdMemory
	cmdWait
	cmdSlowlog
	cmdMulti
	cmdExec
	cmdDiscard
	cmdWatch
	cmdUnwatch

	numCommands
)

// maxCommandName is the longest command name lookup folds.
const maxCommandName = 24

// lookup returns the index of the command named name (any case), or -1.
// It does not allocate.
func lookup(name []byte) int {
	if len(name) > maxCommandName {
		return -1
	}
	var buf [maxCommandName]byte
	h := uint32(len(name))
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
		h = h*31 + uint32(ch)
	}
	key := string(buf[:len(name)]) // no allocation: key does not escape
	for slot := h; ; slot++ {
		e := &commandIndex[slot%indexSlots]
		switch {
		case e.name == "":
			return -1
		case e.name == key:
			return int(e.id)
		}
	}
}

// commandIndex finds a command's id by its name: an open-addressing hash
// table (the hash is folded into lookup's lower-casing loop), derived at
// start from the command table — the one place a command is defined (name,
// arity, flags, keys, handler). lookup, COMMAND, the script allow-list and
// the slow log all read the table. It is filled by init: the handlers in
// the table reach lookup (a script runs commands), which a package-level
// initializer may not.
var commandIndex [indexSlots]struct {
	name string
	id   int32
}

// indexSlots keeps commandIndex under half full.
const indexSlots = 512

func init() {
	for id, c := range newCommandTable() {
		if c.name == "" || len(c.name) > maxCommandName || c.name != strings.ToLower(c.name) {
			panic(fmt.Sprintf("server: command %d (%q) has no usable entry in the command table", id, c.name))
		}
		h := uint32(len(c.name))
		for i := range len(c.name) {
			h = h*31 + uint32(c.name[i])
		}
		for slot := h; ; slot++ {
			if e := &commandIndex[slot%indexSlots]; e.name == "" {
				e.name, e.id = c.name, int32(id)
				break
			}
		}
	}
	if numCommands > indexSlots/2 {
		panic("server: commandIndex is over half full; raise indexSlots")
	}
}

// Command flags: the properties of a command, read where they apply.
// COMMAND reports the first five (flagNames).
const (
	flagWrite = 1 << iota
	flagReadonly
	flagFast
	flagNoAuth // served before AUTH
	flagAdmin
	flagPubsub // allowed in RESP2 subscribed mode
	// flagOwned: runs on its keys' owner, alone on the node (owned.go).
	flagOwned
	// flagScript: scripts may call it (redis.call). The table sets it on
	// every data command (write or readonly) without flagNoScript; the
	// other commands scripts may call name it.
	flagScript
	// flagNoScript: a data command scripts may not call.
	flagNoScript
	// flagGlobal: reads or writes the globals (Raft), no partition's keys:
	// scripts and transactions in a grid may use it whatever their
	// partition.
	flagGlobal
	// flagNoQueue: runs at once inside MULTI instead of being queued.
	flagNoQueue
	// flagNoSlowlog: never recorded in the slow log (its arguments may
	// hold a password).
	flagNoSlowlog
	// flagNoopReply: a reply of 0 or nil says the write changed nothing,
	// so its keys keep their versions (WATCH on a standalone node).
	flagNoopReply
	// flagNumKeys: its keys are the numkeys arguments after argument 2
	// (EVAL), not at first, last, step.
	flagNumKeys
)

// command is one entry of the command table.
type command struct {
	name  string // lower case
	arity int    // Redis's: n exact, -n at least n (the name counts)
	flags int
	// first, last, step locate the key arguments (COMMAND); 0 when none.
	first, last, step int
	fn                func(c *conn, args [][]byte)
	stats             *cmdStats // INFO commandstats
	doc               cmdDoc    // COMMAND DOCS (docs.go)

	// Instruments, resolved once in New.
	calls    prometheus.Counter
	errors   prometheus.Counter
	duration prometheus.Observer
}

// newCommandTable returns the table indexed by the cmd constants. Every
// command has a row of commandDocs (docs.go): the table cannot be built
// without it.
func newCommandTable() [numCommands]command {
	const (
		w  = flagWrite
		r  = flagReadonly
		f  = flagFast
		na = flagNoAuth
		a  = flagAdmin
		ps = flagPubsub
		s  = flagScript
		ns = flagNoScript
		g  = flagGlobal
		nq = flagNoQueue
		nl = flagNoSlowlog
		nr = flagNoopReply
		nk = flagNumKeys
	)
	var t [numCommands]command
	def := func(id int, name string, arity, flags, first, last, step int, fn func(*conn, [][]byte)) {
		doc, ok := commandDocs[name]
		if !ok {
			panic("server: command " + name + " has no row in commandDocs (docs.go)")
		}
		if flags&(flagWrite|flagReadonly) != 0 && flags&flagNoScript == 0 {
			flags |= flagScript
		}
		t[id] = command{name: name, arity: arity, flags: flags, first: first, last: last, step: step, fn: fn,
			stats: new(cmdStats), doc: doc}
	}
	def(cmdPing, "ping", -1, f|ps|s, 0, 0, 0, (*conn).ping)
	def(cmdEcho, "echo", 2, f|s, 0, 0, 0, (*conn).echo)
	def(cmdHello, "hello", -1, f|na|nl, 0, 0, 0, (*conn).hello)
	def(cmdAuth, "auth", -2, f|na|nl, 0, 0, 0, (*conn).auth)
	def(cmdSelect, "select", 2, f, 0, 0, 0, (*conn).selectDB)
	def(cmdClient, "client", -2, 0, 0, 0, 0, (*conn).client)
	def(cmdInfo, "info", -1, 0, 0, 0, 0, (*conn).info)
	def(cmdCommand, "command", -1, 0, 0, 0, 0, (*conn).command)
	def(cmdConfig, "config", -2, a, 0, 0, 0, (*conn).config)
	def(cmdQuit, "quit", -1, f|na|ps|nq, 0, 0, 0, (*conn).quitCmd)
	def(cmdReset, "reset", 1, f|na|ps|nq, 0, 0, 0, (*conn).reset)
	def(cmdTime, "time", 1, f|s, 0, 0, 0, (*conn).timeCmd)

	def(cmdHSet, "hset", -4, w|f, 1, 1, 1, gated((*conn).hset))
	def(cmdHMSet, "hmset", -4, w|f, 1, 1, 1, gated((*conn).hmset))
	def(cmdHGet, "hget", 3, r|f, 1, 1, 1, gated((*conn).hget))
	def(cmdHMGet, "hmget", -3, r|f, 1, 1, 1, gated((*conn).hmget))
	def(cmdHGetAll, "hgetall", 2, r, 1, 1, 1, gated((*conn).hgetall))
	def(cmdHDel, "hdel", -3, w|f|nr, 1, 1, 1, gated((*conn).hdel))
	def(cmdHExists, "hexists", 3, r|f, 1, 1, 1, gated((*conn).hexists))
	def(cmdHLen, "hlen", 2, r|f, 1, 1, 1, gated((*conn).hlen))
	def(cmdHKeys, "hkeys", 2, r, 1, 1, 1, gated((*conn).hkeys))
	def(cmdHVals, "hvals", 2, r, 1, 1, 1, gated((*conn).hvals))
	def(cmdHStrLen, "hstrlen", 3, r|f, 1, 1, 1, gated((*conn).hstrlen))

	def(cmdDel, "del", -2, w|nr|flagOwned, 1, -1, 1, multiKey((*conn).del))
	def(cmdUnlink, "unlink", -2, w|f|nr|flagOwned, 1, -1, 1, multiKey((*conn).del))
	def(cmdExists, "exists", -2, r|f|flagOwned, 1, -1, 1, multiKey((*conn).exists))
	def(cmdType, "type", 2, r|f, 1, 1, 1, gated((*conn).typeCmd))
	def(cmdExpire, "expire", -3, w|f|nr|flagOwned, 1, 1, 1, expireWith((*conn).expire))
	def(cmdPExpire, "pexpire", -3, w|f|nr|flagOwned, 1, 1, 1, expireWith((*conn).pexpire))
	def(cmdTTL, "ttl", 2, r|f, 1, 1, 1, gated((*conn).ttl))
	def(cmdPTTL, "pttl", 2, r|f, 1, 1, 1, gated((*conn).pttl))
	def(cmdPersist, "persist", 2, w|f|nr, 1, 1, 1, gated((*conn).persist))
	def(cmdKeys, "keys", 2, r, 0, 0, 0, gated((*conn).keys))
	def(cmdScan, "scan", -2, r, 0, 0, 0, gated((*conn).scan))
	def(cmdDBSize, "dbsize", 1, r|f, 0, 0, 0, gated((*conn).dbsize))
	def(cmdFlushAll, "flushall", -1, w, 0, 0, 0, gated((*conn).flushall))
	def(cmdFlushDB, "flushdb", -1, w, 0, 0, 0, gated((*conn).flushdb))

	def(cmdGet, "get", 2, r|f, 1, 1, 1, gated((*conn).get))
	def(cmdSet, "set", -3, w|nr, 1, 1, 1, gated((*conn).set))
	def(cmdSetEx, "setex", 4, w, 1, 1, 1, gated((*conn).setex))
	def(cmdPSetEx, "psetex", 4, w, 1, 1, 1, gated((*conn).psetex))
	def(cmdSetNX, "setnx", 3, w|f|nr, 1, 1, 1, gated((*conn).setnx))
	def(cmdDelEx, "delex", -2, w|f|nr, 1, 1, 1, gated((*conn).delex))
	def(cmdMGet, "mget", -2, r|f|flagOwned, 1, -1, 1, multiKey((*conn).mget))
	def(cmdIncr, "incr", 2, w|f, 1, 1, 1, gated((*conn).incr))
	def(cmdIncrBy, "incrby", 3, w|f, 1, 1, 1, gated((*conn).incrby))
	def(cmdDecr, "decr", 2, w|f, 1, 1, 1, gated((*conn).decr))
	def(cmdDecrBy, "decrby", 3, w|f, 1, 1, 1, gated((*conn).decrby))

	def(cmdPropSet, "session.propset", 4, w|f, 1, 1, 1, gated((*conn).propset))
	def(cmdPropGet, "session.propget", 3, r|f, 1, 1, 1, gated((*conn).propget))
	def(cmdProps, "session.props", 2, r, 1, 1, 1, gated((*conn).props))
	def(cmdPropDel, "session.propdel", 3, w|f|nr, 1, 1, 1, gated((*conn).propdel))
	def(cmdClear, "session.clear", -2, w, 1, 1, 1, gated((*conn).clear))
	def(cmdExpiry, "session.expiry", 4, w|f, 1, 1, 1, gated((*conn).expiry))
	def(cmdGlobalSet, "global.set", 3, w|f|g, 0, 0, 0, gated((*conn).globalSet))
	def(cmdGlobalGet, "global.get", 2, r|f|g, 0, 0, 0, gated((*conn).globalGet))
	def(cmdGlobalDel, "global.del", 2, w|f|g, 0, 0, 0, gated((*conn).globalDel))
	def(cmdGlobalAll, "global.all", 1, r|g, 0, 0, 0, gated((*conn).globalAll))
	def(cmdGlobalKeys, "global.keys", 1, r|g, 0, 0, 0, gated((*conn).globalKeys))
	def(cmdGridTable, "grid.table", -1, r|ns, 0, 0, 0, (*conn).gridTable)
	def(cmdGridOwner, "grid.owner", 2, r|f|ns, 1, 1, 1, (*conn).gridOwner)
	def(cmdGridMembers, "grid.members", 1, r|ns, 0, 0, 0, (*conn).gridMembers)
	def(cmdGridSafe, "grid.safe", 1, r|ns, 0, 0, 0, (*conn).gridSafe)
	def(cmdEval, "eval", -3, nk, 0, 0, 0, (*conn).eval)
	def(cmdEvalSha, "evalsha", -3, nk, 0, 0, 0, (*conn).evalsha)
	def(cmdEvalRO, "eval_ro", -3, nk, 0, 0, 0, (*conn).evalRO)
	def(cmdEvalShaRO, "evalsha_ro", -3, nk, 0, 0, 0, (*conn).evalshaRO)
	def(cmdScript, "script", -2, 0, 0, 0, 0, (*conn).script)
	def(cmdSubscribe, "subscribe", -2, ps, 0, 0, 0, (*conn).subscribe)
	def(cmdPSubscribe, "psubscribe", -2, ps, 0, 0, 0, (*conn).psubscribe)
	def(cmdUnsubscribe, "unsubscribe", -1, ps, 0, 0, 0, (*conn).unsubscribe)
	def(cmdPUnsubscribe, "punsubscribe", -1, ps, 0, 0, 0, (*conn).punsubscribe)
	def(cmdPublish, "publish", 3, f|s, 0, 0, 0, (*conn).publish)
	def(cmdPubsub, "pubsub", -2, s, 0, 0, 0, (*conn).pubsub)

	o := flagOwned
	def(cmdHIncrBy, "hincrby", 4, w|f|o, 1, 1, 1, owned(firstKey, (*conn).hincrby))
	def(cmdHIncrByFloat, "hincrbyfloat", 4, w|f|o, 1, 1, 1, owned(firstKey, (*conn).hincrbyfloat))
	def(cmdHSetNX, "hsetnx", 4, w|f|o|nr, 1, 1, 1, owned(firstKey, (*conn).hsetnx))
	def(cmdHScan, "hscan", -3, r, 1, 1, 1, gated((*conn).hscan))
	def(cmdHRandField, "hrandfield", -2, r, 1, 1, 1, gated((*conn).hrandfield))
	def(cmdIncrByFloat, "incrbyfloat", 3, w|f|o, 1, 1, 1, owned(firstKey, (*conn).incrbyfloat))
	def(cmdAppend, "append", 3, w|f|o, 1, 1, 1, owned(firstKey, (*conn).appendCmd))
	def(cmdStrLen, "strlen", 2, r|f, 1, 1, 1, gated((*conn).strlen))
	def(cmdGetDel, "getdel", 2, w|f|o, 1, 1, 1, owned(firstKey, (*conn).getdel))
	def(cmdGetEx, "getex", -2, w|f|o, 1, 1, 1, owned(firstKey, (*conn).getex))
	def(cmdGetRange, "getrange", 4, r, 1, 1, 1, gated((*conn).getrange))
	def(cmdSetRange, "setrange", 4, w|o, 1, 1, 1, owned(firstKey, (*conn).setrange))
	def(cmdMSet, "mset", -3, w|o, 1, -1, 2, owned(pairKeys, (*conn).mset))
	def(cmdMSetNX, "msetnx", -3, w|o|nr, 1, -1, 2, owned(pairKeys, (*conn).msetnx))
	def(cmdExpireAt, "expireat", -3, w|f|o|nr, 1, 1, 1, expireWith((*conn).expireat))
	def(cmdPExpireAt, "pexpireat", -3, w|f|o|nr, 1, 1, 1, expireWith((*conn).pexpireat))
	def(cmdExpireTime, "expiretime", 2, r|f, 1, 1, 1, gated((*conn).expiretime))
	def(cmdPExpireTime, "pexpiretime", 2, r|f, 1, 1, 1, gated((*conn).pexpiretime))
	def(cmdTouch, "touch", -2, r|f|o, 1, -1, 1, multiKey((*conn).touch))
	def(cmdRename, "rename", 3, w|o, 1, 2, 1, owned(twoKeys, (*conn).rename))
	def(cmdRenameNX, "renamenx", 3, w|f|o|nr, 1, 2, 1, owned(twoKeys, (*conn).renamenx))
	def(cmdCopy, "copy", -3, w|o|nr, 1, 2, 1, owned(twoKeys, (*conn).copyCmd))
	def(cmdRandomKey, "randomkey", 1, r, 0, 0, 0, gated((*conn).randomkey))
	def(cmdObject, "object", -2, r, 2, 2, 1, gated((*conn).object))
	def(cmdMemory, "memory", -2, r, 0, 0, 0, gated((*conn).memoryCmd))
	def(cmdWait, "wait", 3, 0, 0, 0, 0, (*conn).wait)
	def(cmdSlowlog, "slowlog", -2, a, 0, 0, 0, (*conn).slowlog)

	def(cmdMulti, "multi", 1, f|nq, 0, 0, 0, (*conn).multi)
	def(cmdExec, "exec", 1, nq, 0, 0, 0, (*conn).execCmd)
	def(cmdDiscard, "discard", 1, f|nq, 0, 0, 0, (*conn).discard)
	def(cmdWatch, "watch", -2, f|nq, 1, -1, 1, (*conn).watch)
	def(cmdUnwatch, "unwatch", 1, f, 0, 0, 0, (*conn).unwatch)
	return t
}

// partitioned reports whether the command reads or writes the keys of
// partitions (its key arguments', or every partition's when it has none):
// the data commands but the globals.
func (cmd *command) partitioned() bool {
	return cmd.flags&(flagWrite|flagReadonly) != 0 && cmd.flags&flagGlobal == 0
}

// keys yields the key arguments of args, a request of cmd.
func (cmd *command) keys(args [][]byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		if cmd.flags&flagNumKeys != 0 {
			if n, ok := parseInt(args[2]); ok && n >= 0 && n <= int64(len(args)-3) {
				for _, k := range args[3 : 3+n] {
					if !yield(k) {
						return
					}
				}
			}
			return
		}
		if cmd.first <= 0 {
			return
		}
		last, step := cmd.last, max(cmd.step, 1)
		if last < 0 {
			last += len(args)
		}
		for i := cmd.first; i <= last && i < len(args); i += step {
			if !yield(args[i]) {
				return
			}
		}
	}
}

// flagNames returns the COMMAND flags of a command.
func flagNames(flags int) []string {
	var out []string
	for _, fl := range []struct {
		bit  int
		name string
	}{{flagWrite, "write"}, {flagReadonly, "readonly"}, {flagFast, "fast"}, {flagNoAuth, "no_auth"}, {flagAdmin, "admin"}} {
		if flags&fl.bit != 0 {
			out = append(out, fl.name)
		}
	}
	return out
}

// exec runs one request.
func (c *conn) exec(args [][]byte) {
	id := lookup(args[0])
	if id < 0 {
		if !c.refuseHTTP(args) && !c.unsupportedType(args[0]) {
			c.unknownCommand(args)
			c.tx.failed = c.tx.multi
		}
		return
	}
	cmd := &c.s.table[id]
	c.lastCmd.Store(int32(id))
	c.commands.Add(1)
	if (cmd.arity > 0 && len(args) != cmd.arity) || len(args) < -cmd.arity {
		if c.refuseHTTP(args) {
			return
		}
		if id == cmdExec {
			c.execAbort("wrong number of arguments for 'exec' command")
		} else {
			c.arityError(cmd.name)
			c.tx.failed = c.tx.multi
		}
		cmd.errors.Inc()
		cmd.calls.Inc()
		cmd.stats.rejected.Add(1)
		return
	}
	if !c.authed && cmd.flags&flagNoAuth == 0 {
		if id == cmdExec {
			c.execAbort("NOAUTH Authentication required.")
		} else {
			c.out.error("NOAUTH Authentication required.")
			c.tx.failed = c.tx.multi
		}
		cmd.errors.Inc()
		cmd.calls.Inc()
		cmd.stats.rejected.Add(1)
		return
	}
	if cmd.flags&flagPubsub == 0 && c.subscribedMode() {
		c.out.error("ERR Can't execute '" + cmd.name + msgSubscribedMode)
		cmd.errors.Inc()
		cmd.calls.Inc()
		return
	}
	if c.tx.multi && cmd.flags&flagNoQueue == 0 {
		c.queue(id, args)
		return
	}
	c.out.failed = false
	// One clock read per command: a command starts where the previous one
	// ended, or the read that brought it returned (parsing is counted).
	start := c.mark
	if start == 0 { // a detached connection's first command
		start = c.s.clock()
	}
	cmd.fn(c, args)
	c.mark = c.s.clock()
	d := c.mark - start
	cmd.duration.Observe(float64(d) / float64(time.Second))
	cmd.calls.Inc()
	cmd.stats.calls.Add(1)
	cmd.stats.usec.Add(int64(d / time.Microsecond))
	if c.out.failed {
		cmd.errors.Inc()
		cmd.stats.failed.Add(1)
	} else if cmd.flags&flagWrite != 0 && cmd.first > 0 {
		c.lastWrite = append(c.lastWrite[:0], args[cmd.first]...)
	}
	c.s.slowlog.record(c, id, args, d)
}

func (c *conn) arityError(name string) {
	c.out.error("ERR wrong number of arguments for '" + name + "' command")
}

func (c *conn) syntaxError() { c.out.error("ERR syntax error") }

// unknownCommand replies as Redis does: the name and the start of the
// arguments, quoted and cut to 128 bytes each.
func (c *conn) unknownCommand(args [][]byte) {
	c.s.metrics.unknown.Inc()
	c.commands.Add(1)
	var b strings.Builder
	b.WriteString("ERR unknown command '")
	b.Write(clip(args[0], 128))
	b.WriteString("', with args beginning with: ")
	room := 128
	for _, a := range args[1:] {
		if room <= 0 {
			break
		}
		a = clip(a, room)
		room -= len(a)
		b.WriteByte('\'')
		b.Write(a)
		b.WriteString("' ")
	}
	c.out.error(b.String())
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
