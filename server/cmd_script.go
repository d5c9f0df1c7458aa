package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sessiongrid/sessiongrid/server/internal/lua"
)

// Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (see
// script.go for the atomicity and the bounds).

func (c *conn) eval(args [][]byte)      { c.evalGeneric(args, false, false) }
func (c *conn) evalsha(args [][]byte)   { c.evalGeneric(args, true, false) }
func (c *conn) evalRO(args [][]byte)    { c.evalGeneric(args, false, true) }
func (c *conn) evalshaRO(args [][]byte) { c.evalGeneric(args, true, true) }

// evalGeneric is EVAL script numkeys [key ...] [arg ...] and its variants
// (bySHA: the script is named by its SHA1; readOnly: write commands are
// refused).
func (c *conn) evalGeneric(args [][]byte, bySHA, readOnly bool) {
	sc := scriptingOf(c.s)
	n, ok := parseInt(args[2])
	switch {
	case !ok:
		c.out.error(msgNotInteger)
		return
	case n < 0:
		c.out.error("ERR Number of keys can't be negative")
		return
	case n > int64(len(args)-3):
		c.out.error("ERR Number of keys can't be greater than number of args")
		return
	}
	keys, argv := args[3:3+n], args[3+n:]

	var script *cachedScript
	if bySHA {
		script = sc.cache.get(strings.ToLower(string(args[1])))
		if script == nil {
			c.out.error("NOSCRIPT No matching script. Please use EVAL.")
			return
		}
	} else {
		var err error
		if script, err = sc.load(args[1]); err != nil {
			c.out.error("ERR Error compiling script (new function): " + err.Error())
			return
		}
	}

	r := &scriptRun{sha: script.sha, readOnly: readOnly, partition: -1, gateHeld: c.gateHeld,
		maxMemory: sc.maxMemory.Load(), log: c.s.log}
	if cl, ok := c.s.backend.(Cluster); ok {
		// The rule of Redis Cluster: a script's keys live in one partition.
		r.cluster = cl
		for _, k := range keys {
			p, _, _ := cl.ClusterOwner(string(k))
			if r.partition >= 0 && p != r.partition {
				c.out.error("CROSSSLOT Keys in request don't hash to the same slot (a script's keys must all be in one partition)")
				return
			}
			r.partition = p
		}
	}
	if c.forwardScript(script, args, keys, readOnly) {
		return
	}
	r.c = c.s.newDetachedConn()
	// The script's writes replicate as one unit (Batcher): its reply waits
	// for them, and a failover never shows half a script.
	end := r.c.beginBatch()
	mark := len(c.out.b)
	sc.run(c, r, script, keys, argv)
	if err := end(); err != nil {
		c.out.b = append(c.out.b[:mark], unavailableReply(err)...)
	}
}

// load compiles src and caches it (or finds it in the cache).
func (sc *scripting) load(src []byte) (*cachedScript, error) {
	sha := lua.SHA1Hex(src)
	if s := sc.cache.get(sha); s != nil {
		return s, nil
	}
	prog, err := lua.Compile(src)
	if err != nil {
		return nil, err
	}
	return sc.cache.add(&cachedScript{sha: sha, src: append([]byte(nil), src...), prog: prog, size: len(src) + prog.Size()}), nil
}

// vmPool holds the idle interpreters of every Server: a VM keeps nothing
// of a run between runs.
var vmPool = sync.Pool{New: func() any { return lua.NewVM() }}

// run runs script on the caller c's behalf, alone on the node, and
// appends its reply to c's.
func (sc *scripting) run(c *conn, r *scriptRun, script *cachedScript, keys, argv [][]byte) {
	vm := vmPool.Get().(*lua.VM)
	ret, cause, err := sc.runLocked(c.s.ctx, vm, r, script, keys, argv)
	var scriptErr *lua.Error
	switch {
	case err == nil:
		mark := len(c.out.b)
		if err := ret.Write(scriptReply{&c.out}, int(r.maxMemory)); err != nil {
			c.out.b = c.out.b[:mark]
			c.out.error(err.Error())
		}
		vmPool.Put(vm)
	case cause != nil:
		// Stopped: the interpreter is dropped (it may hold a lot).
		c.out.error(stoppedMessage(cause, sc, r))
		if errors.Is(cause, errScriptMemory) {
			// Give the memory the script grew back to the system now,
			// not minutes later.
			debug.FreeOSMemory()
		}
	case errors.As(err, &scriptErr):
		c.out.error(scriptErr.Reply)
		if scriptErr.Reusable {
			vmPool.Put(vm)
		}
	default: // a panic: the interpreter is dropped
		c.out.error("ERR Error running script: " + err.Error() + " script: " + r.sha)
	}
}

// scriptReply writes a script's result to a connection's replies.
type scriptReply struct{ w *replies }

func (r scriptReply) Int(n int64)      { r.w.int(n) }
func (r scriptReply) Bulk(b []byte)    { r.w.bulk(b) }
func (r scriptReply) Null()            { r.w.null() }
func (r scriptReply) Error(msg string) { r.w.error(msg) }
func (r scriptReply) Simple(s string)  { r.w.simple(s) }
func (r scriptReply) Array(n int)      { r.w.array(n) }
func (r scriptReply) Len() int         { return len(r.w.b) }

// runLocked runs the script holding the gate, with the time and memory
// limits. cause is why the script was stopped (nil when it was not).
func (sc *scripting) runLocked(parent context.Context, vm *lua.VM, r *scriptRun, script *cachedScript,
	keys, argv [][]byte) (ret lua.Result, cause, err error) {
	if !r.gateHeld { // a script queued in a transaction runs under its gate
		sc.gate.lockAll()
		defer sc.gate.unlockAll()
	}
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	ctx, cancelTimeout := context.WithTimeoutCause(ctx, time.Duration(sc.timeout.Load()), errScriptTimeout)
	defer cancelTimeout()
	sc.setRunning(cancel)
	defer sc.setRunning(nil)
	endWatch := watchMemory(r.maxMemory, func() { cancel(errScriptMemory) })
	defer endWatch()
	defer func() {
		if p := recover(); p != nil {
			ret, err = lua.Result{}, fmt.Errorf("panic: %v", p)
			r.log.Error("panic running a script", "script", r.sha, "panic", p)
		}
	}()
	ret, err = vm.Run(ctx, script.prog, lua.Run{Name: r.sha, Keys: keys, Argv: argv, MaxMemory: r.maxMemory,
		Call: r.call, Logger: r.log})
	if err != nil && ctx.Err() != nil {
		cause = context.Cause(ctx)
	}
	return ret, cause, err
}

// stoppedMessage is the error reply of a script stopped by a limit.
func stoppedMessage(cause error, sc *scripting, r *scriptRun) string {
	const kept = " (the writes it made before are kept) script: "
	switch {
	case errors.Is(cause, errScriptTimeout):
		return "ERR Script killed: it ran longer than the time limit of " +
			time.Duration(sc.timeout.Load()).String() + kept + r.sha
	case errors.Is(cause, errScriptMemory):
		return "ERR Script killed: its memory grew over the limit of " +
			strconv.FormatInt(r.maxMemory, 10) + " bytes" + kept + r.sha
	case errors.Is(cause, errScriptKilled):
		return "ERR Script killed by user with SCRIPT KILL" + kept + r.sha
	}
	return "UNAVAILABLE the server is shutting down: script stopped" + kept + r.sha
}

// script is SCRIPT LOAD|EXISTS|FLUSH|KILL|HELP.
func (c *conn) script(args [][]byte) {
	sc := scriptingOf(c.s)
	sub := strings.ToLower(string(args[1]))
	arity := func(ok bool) bool {
		if !ok {
			c.arityError("script|" + sub)
		}
		return ok
	}
	switch sub {
	case "load":
		if !arity(len(args) == 3) {
			return
		}
		s, err := sc.load(args[2])
		if err != nil {
			c.out.error("ERR Error compiling script (new function): " + err.Error())
			return
		}
		c.out.bulkString(s.sha)
	case "exists":
		if !arity(len(args) >= 3) {
			return
		}
		c.out.array(len(args) - 2)
		for _, sha := range args[2:] {
			c.out.bool(sc.cache.get(strings.ToLower(string(sha))) != nil)
		}
	case "flush":
		if !arity(len(args) <= 3) {
			return
		}
		if len(args) == 3 && !strings.EqualFold(string(args[2]), "async") && !strings.EqualFold(string(args[2]), "sync") {
			c.out.error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
			return
		}
		sc.cache.flush()
		c.out.ok()
	case "kill":
		if !arity(len(args) == 2) {
			return
		}
		if !sc.kill() {
			c.out.error("NOTBUSY No scripts in execution right now.")
			return
		}
		c.out.ok()
	case "help":
		c.out.strings([]string{
			"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"EXISTS <sha1> [<sha1> ...]",
			"    Return information about the existence of the scripts in the script cache.",
			"FLUSH [ASYNC|SYNC]",
			"    Flush the Lua scripts cache.",
			"KILL",
			"    Kill the currently executing Lua script (its writes are kept).",
			"LOAD <script>",
			"    Load a script into the scripts cache without executing it.",
			"HELP",
			"    Print this help.",
		})
	default:
		c.out.error("ERR unknown subcommand '" + string(clip(args[1], 128)) + "'. Try SCRIPT HELP.")
	}
}

// scriptRun is one run of a script.
type scriptRun struct {
	c         *conn // detached: runs the script's calls
	sha       string
	readOnly  bool
	gateHeld  bool    // the caller holds the gate (a transaction)
	cluster   Cluster // nil on a standalone node
	partition int     // of the script's keys; -1 until known
	maxMemory int64
	log       *slog.Logger
}

// call runs one command of the script and returns its reply (RESP2),
// valid until the next call.
func (r *scriptRun) call(args [][]byte) []byte {
	c := r.c
	c.out.b = c.out.b[:0]
	if id := lookup(args[0]); id >= 0 {
		if msg := r.check(id, args); msg != "" {
			c.out.error(msg)
			return c.out.b
		}
	}
	return c.execDetached(args)
}

// check returns the error reply refusing a call, or "".
func (r *scriptRun) check(id int, args [][]byte) string {
	cmd := &r.c.s.table[id]
	if cmd.flags&flagScript == 0 {
		return "ERR This Redis command is not allowed from script: '" + cmd.name + "'"
	}
	if r.readOnly && cmd.flags&flagWrite != 0 {
		return "ERR Write commands are not allowed from read-only scripts."
	}
	if r.cluster == nil || !cmd.partitioned() {
		return ""
	}
	if cmd.first <= 0 {
		return "CROSSSLOT '" + cmd.name + "' reads or writes every partition: not allowed from a script in a grid"
	}
	for k := range cmd.keys(args) {
		p, _, _ := r.cluster.ClusterOwner(string(k))
		if r.partition >= 0 && p != r.partition {
			return fmt.Sprintf("CROSSSLOT Script attempted to access key '%s' of partition %d, but its keys are in partition %d",
				clip(k, 128), p, r.partition)
		}
		r.partition = p
	}
	return ""
}

// Detached connections.

// newDetachedConn returns a connection without a socket, authenticated,
// speaking RESP2, on which the server runs commands for itself (the calls
// of scripts). It is not registered with the server.
func (s *Server) newDetachedConn() *conn {
	c := &conn{s: s, nc: noSocket{}, id: detachedConnID, authed: true, created: time.Now()}
	c.lastCmd.Store(-1)
	c.proto.Store(2)
	return c
}

// execDetached runs one command on a detached connection and returns its
// reply (RESP2), valid until the next call.
func (c *conn) execDetached(args [][]byte) []byte {
	c.out.b = c.out.b[:0]
	c.mark = c.s.clock()
	c.exec(args)
	if c.quit { // QUIT and the like are not callable; never leave it set
		c.quit = false
	}
	return c.out.b
}

// noSocket is the net.Conn of a detached connection: nothing to read, and
// writes go nowhere.
type noSocket struct{}

func (noSocket) Read([]byte) (int, error)         { return 0, io.EOF }
func (noSocket) Write(p []byte) (int, error)      { return len(p), nil }
func (noSocket) Close() error                     { return nil }
func (noSocket) LocalAddr() net.Addr              { return detachedAddr{} }
func (noSocket) RemoteAddr() net.Addr             { return detachedAddr{} }
func (noSocket) SetDeadline(time.Time) error      { return nil }
func (noSocket) SetReadDeadline(time.Time) error  { return nil }
func (noSocket) SetWriteDeadline(time.Time) error { return nil }

type detachedAddr struct{}

func (detachedAddr) Network() string { return "detached" }
func (detachedAddr) String() string  { return "script" }

// forwardScript runs a script whose keys another member owns on that
// member (as EVAL, so that it needs no script cache there) and appends its
// reply: the script then runs where its partition lives, atomic there, and
// its writes replicate as one unit. It reports whether it forwarded. A
// script that was forwarded to this member already runs here.
func (c *conn) forwardScript(script *cachedScript, args, keys [][]byte, readOnly bool) bool {
	fw, ok := c.s.backend.(Forwarder)
	if !ok || len(keys) == 0 || c.forwarded {
		return false
	}
	owner := fw.RemoteOwner(keys[0])
	if owner == "" {
		return false
	}
	name := "eval"
	if readOnly {
		name = "eval_ro"
	}
	fargs := append([][]byte{[]byte(name), script.src}, args[2:]...)
	replies, err := fw.Forward(c.s.ctx, owner, int(c.proto.Load()), [][][]byte{fargs})
	if err != nil || len(replies) != 1 {
		c.out.b = append(c.out.b, errorReply("UNAVAILABLE forwarding the script to "+owner+" failed; it may or may not have run: "+errText(err))...)
		return true
	}
	c.out.b = append(c.out.b, replies[0]...)
	return true
}
