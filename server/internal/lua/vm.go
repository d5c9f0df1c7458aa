package lua

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// The interpreter: the sandbox, the redis library and the string functions
// bounded by the memory limit.

// Interpreter bounds.
const (
	// luaCallStackSize bounds the Lua call depth.
	luaCallStackSize = 1024
	// luaRegistrySize and luaRegistryMaxSize bound the value stack (in
	// values of 16 bytes); it grows by luaRegistryGrowStep (gopher-lua
	// copies it at every step: small steps make a deep stack quadratic).
	luaRegistrySize     = 1024
	luaRegistryMaxSize  = 256 << 10
	luaRegistryGrowStep = 8 << 10
	// maxReplyDepth bounds the nesting of the tables a script returns.
	maxReplyDepth = 64
)

// Caller runs one command a script calls (redis.call, redis.pcall) and
// returns its reply in RESP2. It is called on the goroutine of VM.Run, and
// the VM reads the reply before the next call: the Caller may reuse the
// buffer. It may block (the VM's context does not stop it). An error of
// the command is an error reply, not a Go error.
type Caller func(args [][]byte) []byte

// Run is what one run of a script gets.
type Run struct {
	// Name names the script in error replies and logs (its SHA1).
	Name string
	// Keys and Argv are the script's KEYS and ARGV, read during the run
	// only.
	Keys, Argv [][]byte
	// MaxMemory bounds the size of a string the script builds in one call
	// (string.rep, string.format, string.gsub, table.concat, ..), in
	// bytes; DefaultMaxMemory when 0.
	MaxMemory int64
	// Call runs the script's redis.call and redis.pcall.
	Call Caller
	// Logger receives redis.log at debug level; nil drops it.
	Logger *slog.Logger
}

// VM is one sandboxed interpreter. It runs one script at a time (it is not
// safe for concurrent use), and keeps nothing of a Run between runs but
// its reused, cleaned global table: a pool of idle VMs serves any caller.
type VM struct {
	L *glua.LState
	// envMeta is the metatable of each run's global table: reads fall back
	// to the shared base functions, which the run cannot change.
	envMeta *glua.LTable
	// libs are the library tables, handed to each run behind read-only
	// proxies.
	libs       []luaLib
	origFormat glua.LGFunction
	// env and proxies are the globals of the last run and its library
	// proxies, reused while runs leave them unchanged.
	env     *glua.LTable
	proxies []*glua.LTable
	// run is the run in progress (running: true), zero between runs.
	run     Run
	running bool
	args    [][]byte // of redis.call, reused by the calls
}

type luaLib struct {
	name string
	meta *glua.LTable // __index: the library; __newindex: an error
}

// NewVM returns an interpreter with the sandboxed libraries: the base
// library without dofile, loadfile, load, require, module, print, getfenv
// and setfenv; table, string and math, read-only; and the redis table.
func NewVM() *VM {
	L := glua.NewState(glua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       luaCallStackSize,
		RegistrySize:        luaRegistrySize,
		RegistryMaxSize:     luaRegistryMaxSize,
		RegistryGrowStep:    luaRegistryGrowStep,
		MinimizeStackMemory: true,
	})
	vm := &VM{L: L}
	for _, lib := range []struct {
		name string
		open glua.LGFunction
	}{
		{glua.BaseLibName, glua.OpenBase},
		{glua.TabLibName, glua.OpenTable},
		{glua.StringLibName, glua.OpenString},
		{glua.MathLibName, glua.OpenMath},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(glua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	for _, name := range []string{"dofile", "loadfile", "load", "require", "module", "print", "_printregs",
		"getfenv", "setfenv", "_G"} {
		g.RawSetString(name, glua.LNil)
	}
	g.RawSetString("collectgarbage", L.NewFunction(func(L *glua.LState) int {
		L.Push(glua.LNumber(0)) // no forced collections from scripts
		return 1
	}))
	g.RawSetString("loadstring", L.NewFunction(vm.loadstring))
	g.RawSetString(luaConcatName, L.NewFunction(vm.luaConcat))

	str := g.RawGetString("string").(*glua.LTable)
	vm.origFormat = str.RawGetString("format").(*glua.LFunction).GFunction
	str.RawSetString("rep", L.NewFunction(vm.strRep))
	str.RawSetString("format", L.NewFunction(vm.strFormat))
	str.RawSetString("gsub", L.NewFunction(vm.strGsub))
	str.RawSetString("gmatch", L.NewFunction(vm.strGmatch))
	str.RawSetString("find", L.NewFunction(vm.strFind))
	str.RawSetString("match", L.NewFunction(vm.strMatch))
	tab := g.RawGetString("table").(*glua.LTable)
	tab.RawSetString("concat", L.NewFunction(vm.tabConcat))
	if mt, ok := L.GetMetatable(glua.LString("")).(*glua.LTable); ok {
		mt.RawSetString("__metatable", glua.LFalse)
	}

	redis := L.NewTable()
	for name, fn := range map[string]glua.LGFunction{
		"call":               func(L *glua.LState) int { return vm.redisCall(L, true) },
		"pcall":              func(L *glua.LState) int { return vm.redisCall(L, false) },
		"sha1hex":            luaSha1hex,
		"error_reply":        func(L *glua.LState) int { return luaReplyTable(L, "err") },
		"status_reply":       func(L *glua.LState) int { return luaReplyTable(L, "ok") },
		"log":                vm.redisLog,
		"setresp":            luaSetResp,
		"replicate_commands": func(L *glua.LState) int { L.Push(glua.LTrue); return 1 },
		"set_repl":           func(*glua.LState) int { return 0 },
	} {
		redis.RawSetString(name, L.NewFunction(fn))
	}
	for name, v := range map[string]int{
		"LOG_DEBUG": 0, "LOG_VERBOSE": 1, "LOG_NOTICE": 2, "LOG_WARNING": 3,
		"REPL_NONE": 0, "REPL_AOF": 1, "REPL_SLAVE": 2, "REPL_REPLICA": 2, "REPL_ALL": 3,
	} {
		redis.RawSetString(name, glua.LNumber(v))
	}
	g.RawSetString("redis", redis)

	readOnly := L.NewFunction(func(L *glua.LState) int {
		L.RaiseError("attempt to modify a read-only library table")
		return 0
	})
	for _, name := range []string{"string", "table", "math", "redis"} {
		meta := L.NewTable()
		meta.RawSetString("__index", g.RawGetString(name))
		meta.RawSetString("__newindex", readOnly)
		meta.RawSetString("__metatable", glua.LFalse)
		vm.libs = append(vm.libs, luaLib{name: name, meta: meta})
		g.RawSetString(name, glua.LNil)
	}
	vm.envMeta = L.NewTable()
	vm.envMeta.RawSetString("__index", g)
	vm.envMeta.RawSetString("__metatable", glua.LFalse)
	return vm
}

// Run runs s with r until it returns, fails or ctx ends (checked before
// every instruction, and as they work inside the pattern functions and
// table.concat). A failure of the script is an *Error. A Go panic inside
// the interpreter is not recovered: the caller recovers it and drops the
// VM.
func (vm *VM) Run(ctx context.Context, s *Script, r Run) (Result, error) {
	L := vm.L
	if r.MaxMemory <= 0 {
		r.MaxMemory = DefaultMaxMemory
	}
	env := vm.prepareEnv(r.Keys, r.Argv)
	fn := L.NewFunctionFromProto(s.proto)
	fn.Env = env

	vm.run, vm.running = r, true
	defer func() {
		vm.run, vm.running = Run{}, false
		env.RawSetString("KEYS", glua.LNil) // do not keep the arguments in the pool
		env.RawSetString("ARGV", glua.LNil)
	}()
	L.SetContext(ctx)
	defer L.RemoveContext()
	L.SetTop(0)
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		L.SetTop(0)
		return Result{}, scriptError(err, r.Name)
	}
	ret := L.Get(-1)
	L.SetTop(0)
	return Result{v: ret}, nil
}

// Error is the failure of a script, as the error reply Redis gives.
type Error struct {
	// Reply is the error reply, its code first: a call's error reply (or
	// error({err=...}), redis.error_reply) as is, any other error as
	// "ERR <message> script: <name>".
	Reply string
	// Reusable reports whether the VM may run scripts again (false after
	// an error inside the interpreter's own Go code).
	Reusable bool
	err      error
}

func (e *Error) Error() string { return e.Reply }

// Unwrap returns gopher-lua's error.
func (e *Error) Unwrap() error { return e.err }

// scriptError converts an error of PCall to an *Error.
func scriptError(err error, name string) error {
	var apiErr *glua.ApiError
	if !errors.As(err, &apiErr) {
		return &Error{Reply: "ERR Error running script: " + err.Error() + " script: " + name, err: err}
	}
	if t, ok := apiErr.Object.(*glua.LTable); ok {
		if msg, ok := errField(t); ok {
			// An error reply of a call (or redis.error_reply): as is.
			return &Error{Reply: msg, Reusable: true, err: err}
		}
	}
	msg := glua.LVAsString(apiErr.Object)
	if apiErr.Object == nil || msg == "" {
		msg = apiErr.Error()
	}
	return &Error{Reply: "ERR " + msg + " script: " + name, Reusable: apiErr.Type != glua.ApiErrorPanic, err: err}
}

// errField returns the error reply of a table {err=...}: its err field,
// "ERR" when empty.
func errField(t *glua.LTable) (string, bool) {
	e, ok := t.RawGetString("err").(glua.LString)
	if !ok {
		return "", false
	}
	if e == "" {
		return "ERR", true
	}
	return string(e), true
}

// prepareEnv returns the globals of a run: the libraries (behind
// read-only proxies), _G, KEYS and ARGV, reads falling back to the base
// functions. The previous run's table is reused when that run left it as
// it found it (no global of its own, empty proxies).
func (vm *VM) prepareEnv(keys, argv [][]byte) *glua.LTable {
	L := vm.L
	if vm.env == nil || !vm.envClean() {
		vm.env = L.CreateTable(0, len(vm.libs)+3)
		vm.env.Metatable = vm.envMeta
		vm.proxies = make([]*glua.LTable, len(vm.libs))
	}
	for i, lib := range vm.libs {
		if p := vm.proxies[i]; p == nil || p.Metatable != lib.meta || !luaTableEmpty(p) {
			p = L.CreateTable(0, 0)
			p.Metatable = lib.meta
			vm.proxies[i] = p
		}
		vm.env.RawSetString(lib.name, vm.proxies[i])
	}
	vm.env.RawSetString("_G", vm.env)
	vm.env.RawSetString("KEYS", luaStrings(L, keys))
	vm.env.RawSetString("ARGV", luaStrings(L, argv))
	return vm.env
}

// envClean reports whether the globals hold only what prepareEnv sets.
func (vm *VM) envClean() bool {
	clean := vm.env.Metatable == vm.envMeta
	vm.env.ForEach(func(k, _ glua.LValue) {
		switch name, _ := k.(glua.LString); name {
		case "_G", "KEYS", "ARGV", "string", "table", "math", "redis":
		default:
			clean = false
		}
	})
	return clean
}

func luaTableEmpty(t *glua.LTable) bool {
	k, _ := t.Next(glua.LNil)
	return k == glua.LNil
}

func luaStrings(L *glua.LState, items [][]byte) *glua.LTable {
	t := L.CreateTable(len(items), 0)
	for _, it := range items {
		t.Append(glua.LString(it))
	}
	return t
}

// limit returns the memory limit of the run in progress.
func (vm *VM) limit() int64 {
	if vm.running {
		return vm.run.MaxMemory
	}
	return DefaultMaxMemory
}

// redisCall is redis.call (raise true) and redis.pcall.
func (vm *VM) redisCall(L *glua.LState, raise bool) int {
	if !vm.running {
		L.RaiseError("redis.call is only available while a script runs")
	}
	n := L.GetTop()
	if n == 0 {
		L.RaiseError("Please specify at least one argument for this redis lib call")
	}
	args := vm.args[:0]
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case glua.LString:
			args = append(args, []byte(v))
		case glua.LNumber:
			args = append(args, []byte(luaNumberString(float64(v))))
		default:
			L.RaiseError("Lua redis lib command arguments must be strings or integers")
		}
	}
	name := string(args[0][:min(len(args[0]), 64)])
	reply := vm.run.Call(args)
	clear(args)
	vm.args = args[:0]
	v, rest, isErr, err := respToLua(L, reply, 0)
	if err == nil && len(rest) != 0 {
		err = errors.New("trailing bytes")
	}
	if err != nil {
		// Never expected: the Caller returns well-formed RESP2.
		L.RaiseError("internal error: cannot read the reply of '%s': %v", name, err)
	}
	if isErr && raise {
		L.Error(v, 1)
	}
	L.Push(v)
	return 1
}

// luaNumberString formats a Lua number as Lua 5.1's tostring does
// ("%.14g"), as Redis passes numbers to commands.
func luaNumberString(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e14 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 14, 64)
}

func luaSha1hex(L *glua.LState) int {
	if L.GetTop() != 1 {
		L.RaiseError("wrong number of arguments")
	}
	L.Push(glua.LString(SHA1Hex([]byte(L.CheckString(1)))))
	return 1
}

// luaReplyTable is redis.error_reply and redis.status_reply: {field=msg}.
func luaReplyTable(L *glua.LState, field string) int {
	if L.GetTop() != 1 || L.Get(1).Type() != glua.LTString {
		L.RaiseError("wrong number or type of arguments")
	}
	t := L.CreateTable(0, 1)
	t.RawSetString(field, L.Get(1))
	L.Push(t)
	return 1
}

// redisLog is redis.log(level, message...): logged at debug level.
func (vm *VM) redisLog(L *glua.LState) int {
	n := L.GetTop()
	if n < 2 {
		L.RaiseError("redis.log() requires two arguments or more.")
	}
	level := L.CheckInt(1)
	if level < 0 || level > 3 {
		L.RaiseError("Invalid debug level.")
	}
	var b strings.Builder
	for i := 2; i <= n; i++ {
		if i > 2 {
			b.WriteByte(' ')
		}
		b.WriteString(glua.LVAsString(L.Get(i)))
	}
	if r := vm.run; vm.running && r.Logger != nil {
		r.Logger.Debug("script log", "script", r.Name, "level", level, "message", b.String())
	}
	return 0
}

// luaSetResp is redis.setresp: scripts speak RESP2 only.
func luaSetResp(L *glua.LState) int {
	if v := L.CheckInt(1); v != 2 {
		L.RaiseError("RESP version must be 2 (gridnode scripts speak RESP2 only)")
	}
	return 0
}

// loadstring compiles a chunk with the script's limits, in the script's
// globals.
func (vm *VM) loadstring(L *glua.LState) int {
	src := L.CheckString(1)
	name := L.OptString(2, "=(loadstring)")
	proto, err := compile(src, name)
	if err != nil {
		L.Push(glua.LNil)
		L.Push(glua.LString(err.Error()))
		return 2
	}
	fn := L.NewFunctionFromProto(proto)
	if vm.running {
		fn.Env = vm.env // the run's globals
	}
	L.Push(fn)
	return 1
}

// strRep is string.rep, refusing results over the memory limit.
func (vm *VM) strRep(L *glua.LState) int {
	s := L.CheckString(1)
	n := L.CheckInt(2)
	if n <= 0 || len(s) == 0 {
		L.Push(glua.LString(""))
		return 1
	}
	if limit := vm.limit(); int64(n) > limit/int64(len(s)) {
		L.RaiseError("string.rep: the result would be over the script memory limit of %d bytes", limit)
	}
	L.Push(glua.LString(strings.Repeat(s, n)))
	return 1
}

// strFormat is string.format, refusing formats whose widths could build a
// result over the memory limit.
func (vm *VM) strFormat(L *glua.LState) int {
	f := L.CheckString(1)
	bound := int64(len(f))
	for i := 2; i <= L.GetTop(); i++ {
		if s, ok := L.Get(i).(glua.LString); ok {
			bound += int64(len(s))
		} else {
			bound += 64
		}
	}
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			i++
		}
		var w int64
		for ; i < len(f) && (('0' <= f[i] && f[i] <= '9') || f[i] == '.'); i++ {
			if f[i] != '.' {
				w = min(w*10+int64(f[i]-'0'), 1<<40)
			}
		}
		bound += w
	}
	if limit := vm.limit(); bound > limit {
		L.RaiseError("string.format: the result could be over the script memory limit of %d bytes", limit)
	}
	return vm.origFormat(L)
}
