package server

import (
	"container/list"
	"context"
	"errors"
	"runtime"
	rtmetrics "runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/sessiongrid/sessiongrid/server/internal/lua"
)

// Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT run Lua 5.1
// scripts (gopher-lua, in package internal/lua) whose redis.call and
// redis.pcall run gridnode's own command implementations, with the same
// semantics and error replies. This file and cmd_script.go are the glue:
// the script cache, the gate, the limits and the calls' connection.
//
// # Atomicity
//
// On a node, a script runs alone: no other script and no data command (a
// command that reads or writes the keyspace, SESSION.*, GLOBAL.*) from any
// client of the node runs between two of its calls. Every data command
// takes a read lock of the node's script gate (a striped RWMutex: the
// stripe is chosen by connection, so connections do not share a cache
// line), and a script takes the write lock of every stripe for its whole
// run. Connection commands (PING, INFO, CLIENT, SCRIPT KILL ...) do not
// wait for scripts.
//
// In a grid, the operations other members route to this member take a
// read lock of the gate too (WriteWatcher), and a script runs on the owner
// of its keys' partition, so it is atomic for every client of the grid.
// Transactions (EXEC) hold the gate the same way.
//
// A script stopped by its time or memory limit (or SCRIPT KILL) keeps the
// writes it made before it was stopped (Redis refuses to kill a script
// that wrote; gridnode's limits are hard).
//
// # Bounds
//
// A script runs for at most DefaultScriptTimeout, checked before every Lua
// instruction and, inside the library calls that can run long, as they
// work: the pattern functions (string.find, match, gmatch, gsub) run
// gridnode's own Lua 5.1 matcher (package luapattern), which checks the
// script's context every few thousand steps as it backtracks, and
// table.concat checks it between elements. So the time limit, SCRIPT KILL
// and a shutdown stop a script within milliseconds, and data commands of
// other clients wait at most the limit. Its heap growth is watched while it
// runs (sampled every few milliseconds; a garbage collection confirms
// before the script is stopped, and the memory is given back to the system
// after), and every library function and operator that builds a string in
// one call (string.rep, string.format, string.gsub, table.concat and the ..
// operator, which compiles to a bounded call) refuses results over the
// memory limit, and the Lua call depth and value stack are bounded. Scripts get
// the base library without dofile, loadfile, load, require, module, print,
// getfenv and setfenv; table, string and math; and the redis table. There
// is no os, io, debug or package library. Each run gets its own global
// table, and the libraries are read-only: a script cannot change what the
// next one sees.

// Scripting defaults. Config has no fields for them yet: they apply to
// every Server.
const (
	// DefaultScriptTimeout bounds the run time of one script.
	DefaultScriptTimeout = 5 * time.Second
	// DefaultScriptMaxMemory bounds the heap a script may grow, and the
	// size of one string or reply it builds.
	DefaultScriptMaxMemory = lua.DefaultMaxMemory
	// DefaultScriptCacheEntries and DefaultScriptCacheBytes bound the
	// script cache (SCRIPT LOAD and EVAL fill it; the oldest scripts are
	// dropped first, and EVALSHA of a dropped script answers NOSCRIPT, which
	// clients handle by loading it again).
	DefaultScriptCacheEntries = 10000
	DefaultScriptCacheBytes   = 64 << 20
	// MaxScriptSource bounds the source of one script.
	MaxScriptSource = lua.MaxSource
)

// Reasons a running script is stopped (the cause of its context).
var (
	errScriptTimeout = errors.New("script timed out")
	errScriptMemory  = errors.New("script used too much memory")
	errScriptKilled  = errors.New("script killed")
	errScriptStopped = errors.New("server shutting down")
)

// scripting is a Server's scripting state.
//
// Each Server owns one (Server.scripts), created by New.
type scripting struct {
	gate  scriptGate
	cache scriptCache

	timeout   atomic.Int64 // time.Duration
	maxMemory atomic.Int64 // bytes

	mu     sync.Mutex
	cancel context.CancelCauseFunc // of the running script; nil when none
}

func newScripting() *scripting {
	sc := &scripting{cache: scriptCache{
		byHash: make(map[string]*cachedScript), maxEntries: DefaultScriptCacheEntries, maxBytes: DefaultScriptCacheBytes,
	}}
	sc.timeout.Store(int64(DefaultScriptTimeout))
	sc.maxMemory.Store(DefaultScriptMaxMemory)
	return sc
}

// scriptingOf returns s's scripting state.
func scriptingOf(s *Server) *scripting { return s.scripts }

// setLimits changes the time and memory limits of the scripts that start
// from now on (tests; the lead may wire it to Config).
func (sc *scripting) setLimits(timeout time.Duration, maxMemory int64) {
	sc.timeout.Store(int64(timeout))
	sc.maxMemory.Store(maxMemory)
}

// kill stops the running script; false when none runs.
func (sc *scripting) kill() bool { return sc.stop(errScriptKilled) }

// stop stops the running script with cause; false when none runs. The
// script ends at its next instruction or, inside a pattern match or
// table.concat, within a few thousand steps.
func (sc *scripting) stop(cause error) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.cancel == nil {
		return false
	}
	sc.cancel(cause)
	return true
}

func (sc *scripting) setRunning(cancel context.CancelCauseFunc) {
	sc.mu.Lock()
	sc.cancel = cancel
	sc.mu.Unlock()
}

// The script gate.

// gateStripes is the number of stripes of the gate (a power of two).
const gateStripes = 32

// gateStripe is one RWMutex alone on its cache lines.
type gateStripe struct {
	sync.RWMutex
	_ [128 - unsafe.Sizeof(sync.RWMutex{})]byte
}

// scriptGate keeps data commands out while a script runs.
type scriptGate struct{ stripes [gateStripes]gateStripe }

func (g *scriptGate) lockAll() {
	for i := range g.stripes {
		g.stripes[i].Lock()
	}
}

func (g *scriptGate) unlockAll() {
	for i := range g.stripes {
		g.stripes[i].Unlock()
	}
}

// detachedConnID is the id of the connections without a socket that run
// the calls of scripts (which hold the gate already).
const detachedConnID = -1

// gated wraps the implementation of a data command: it runs under a read
// lock of the server's script gate, so that scripts are atomic.
func gated(fn func(*conn, [][]byte)) func(*conn, [][]byte) {
	// The command table, and so this closure, belongs to one Server.
	var gate atomic.Pointer[scriptGate]
	fn = numbered(fn)
	return func(c *conn, args [][]byte) {
		if c.id < 0 || c.gateHeld {
			fn(c, args) // a script's call or a transaction's: it holds the gate
			return
		}
		g := gate.Load()
		if g == nil {
			g = &scriptingOf(c.s).gate
			gate.Store(g)
		}
		m := &g.stripes[uint64(c.id)&(gateStripes-1)]
		m.RLock()
		defer m.RUnlock()
		fn(c, args)
	}
}

// The script cache.

// cachedScript is one compiled script.
type cachedScript struct {
	sha  string // lower-case hex SHA1 of the source
	src  []byte // the source (EVALSHA forwarded to a key's owner travels as EVAL)
	prog *lua.Script
	size int // estimated bytes held
	elem *list.Element
}

// scriptCache holds compiled scripts by SHA1, bounded in entries and
// bytes; the oldest are dropped first.
type scriptCache struct {
	mu         sync.Mutex
	byHash     map[string]*cachedScript
	order      list.List // of *cachedScript, oldest first
	bytes      int
	maxEntries int
	maxBytes   int
}

func (c *scriptCache) get(sha string) *cachedScript {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byHash[sha]
}

// add caches s (or returns the script already cached under its hash).
func (c *scriptCache) add(s *cachedScript) *cachedScript {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.byHash[s.sha]; ok {
		return old
	}
	for c.order.Len() > 0 && (c.order.Len() >= c.maxEntries || c.bytes+s.size > c.maxBytes) {
		oldest := c.order.Remove(c.order.Front()).(*cachedScript)
		delete(c.byHash, oldest.sha)
		c.bytes -= oldest.size
	}
	s.elem = c.order.PushBack(s)
	c.byHash[s.sha] = s
	c.bytes += s.size
	return s
}

func (c *scriptCache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.byHash)
	c.order.Init()
	c.bytes = 0
}

func (c *scriptCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byHash)
}

// The memory watchdog.

// memCheckEvery is the period of the heap samples taken while a script
// runs; a script shorter than that is never sampled.
const memCheckEvery = 5 * time.Millisecond

// watchMemory stops the script (calls stop) when the heap has grown by
// more than limit bytes while it runs, confirmed after a garbage
// collection. A script that runs for more than memCheckEvery costs one
// garbage collection, to measure the live heap without the garbage of
// before. The returned function ends the watch; it returns once the
// watchdog is gone.
func watchMemory(limit int64, stop func()) (end func()) {
	sample := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() int64 {
		rtmetrics.Read(sample)
		if sample[0].Value.Kind() != rtmetrics.KindUint64 {
			return 0
		}
		return int64(sample[0].Value.Uint64())
	}
	done := make(chan struct{})
	exited := make(chan struct{})
	t := time.AfterFunc(memCheckEvery, func() {
		defer close(exited)
		select {
		case <-done:
			return
		default:
		}
		runtime.GC()
		base := read()
		threshold := base + limit
		tick := time.NewTicker(memCheckEvery)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if read() > threshold {
				// The heap holds garbage too: collect it before judging.
				runtime.GC()
				now := read()
				if now > base+limit {
					stop()
					return
				}
				threshold = now + limit
			}
		}
	})
	return func() {
		close(done)
		if !t.Stop() {
			<-exited
		}
	}
}
