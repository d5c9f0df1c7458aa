package server

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

// The Lua side of scripting: compiling, the sandboxed interpreter, the
// redis library and the conversions between replies and Lua values.

// Interpreter bounds.
const (
	// scriptChunkName names scripts in Lua error messages, as Redis 7 does.
	scriptChunkName = "user_script"
	// maxSyntaxDepth bounds the nesting of a script's syntax levels,
	// counted as Lua 5.1 does: the left operand of a left-associative
	// operator (1+1+...+1, a and b and c) adds no level, so such chains
	// parse as in Redis. maxTreeDepth bounds the depth of the syntax tree
	// itself, chains included: the compiler recurses on it and is
	// quadratic in it (a 1,500-term chain of variables compiles in about
	// 0.2 s, 2,000 terms in 0.4 s).
	maxSyntaxDepth = 1000
	maxTreeDepth   = 2000
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

// compileLua compiles a script (or a loadstring chunk) named name.
func compileLua(src string, name string) (proto *lua.FunctionProto, err error) {
	if len(src) > MaxScriptSource {
		return nil, fmt.Errorf("script of %d bytes is over the limit of %d bytes", len(src), MaxScriptSource)
	}
	defer func() {
		if r := recover(); r != nil {
			proto, err = nil, fmt.Errorf("%s: cannot compile: %v", name, r)
		}
	}()
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err != nil {
		return nil, err
	}
	d := depthCheck{limit: level{syntax: maxSyntaxDepth, tree: maxTreeDepth}}
	d.stmts(chunk, level{})
	switch d.over {
	case overSyntax:
		return nil, fmt.Errorf("%s: chunk has too many syntax levels (over %d)", name, maxSyntaxDepth)
	case overTree:
		return nil, fmt.Errorf("%s: expression too complex (over %d nested operations)", name, maxTreeDepth)
	}
	concatRewrite{}.stmts(chunk)
	return lua.Compile(chunk, name)
}

// depthCheck finds syntax trees deeper than limit, without recursing
// deeper than that.
type depthCheck struct {
	limit level
	over  overKind
}

// level is the depth of a node: in syntax levels (Lua 5.1's count) and
// in the tree.
type level struct{ syntax, tree int }

// deeper is the level of a node's operands.
func (l level) deeper() level { return level{l.syntax + 1, l.tree + 1} }

// leftOperand is the level of the left operand of a left-associative
// operator at l: one deeper in the tree, no syntax level more.
func (l level) leftOperand() level { return level{l.syntax, l.tree + 1} }

type overKind int

const (
	notOver overKind = iota
	overSyntax
	overTree
)

// exceeded records and reports a level over the limits.
func (d *depthCheck) exceeded(l level) bool {
	switch {
	case d.over != notOver:
	case l.syntax > d.limit.syntax:
		d.over = overSyntax
	case l.tree > d.limit.tree:
		d.over = overTree
	}
	return d.over != notOver
}

func (d *depthCheck) stmts(ss []ast.Stmt, lv level) {
	for _, s := range ss {
		if d.over != notOver {
			return
		}
		d.stmt(s, lv)
	}
}

func (d *depthCheck) exprs(es []ast.Expr, lv level) {
	for _, e := range es {
		if d.over != notOver {
			return
		}
		d.expr(e, lv)
	}
}

func (d *depthCheck) stmt(s ast.Stmt, lv level) {
	if d.exceeded(lv) {
		return
	}
	in := lv.deeper()
	switch s := s.(type) {
	case *ast.AssignStmt:
		d.exprs(s.Lhs, in)
		d.exprs(s.Rhs, in)
	case *ast.LocalAssignStmt:
		d.exprs(s.Exprs, in)
	case *ast.FuncCallStmt:
		d.expr(s.Expr, in)
	case *ast.DoBlockStmt:
		d.stmts(s.Stmts, in)
	case *ast.WhileStmt:
		d.expr(s.Condition, in)
		d.stmts(s.Stmts, in)
	case *ast.RepeatStmt:
		d.expr(s.Condition, in)
		d.stmts(s.Stmts, in)
	case *ast.IfStmt:
		d.expr(s.Condition, in)
		d.stmts(s.Then, in)
		d.stmts(s.Else, in)
	case *ast.NumberForStmt:
		d.exprs([]ast.Expr{s.Init, s.Limit, s.Step}, in)
		d.stmts(s.Stmts, in)
	case *ast.GenericForStmt:
		d.exprs(s.Exprs, in)
		d.stmts(s.Stmts, in)
	case *ast.FuncDefStmt:
		if s.Name != nil {
			d.exprs([]ast.Expr{s.Name.Func, s.Name.Receiver}, in)
		}
		if s.Func != nil {
			d.expr(s.Func, in)
		}
	case *ast.ReturnStmt:
		d.exprs(s.Exprs, in)
	}
}

func (d *depthCheck) expr(e ast.Expr, lv level) {
	if d.exceeded(lv) {
		return
	}
	in := lv.deeper()
	switch e := e.(type) {
	case *ast.AttrGetExpr: // a.b.c and a[b][c] chain on the left too
		d.expr(e.Object, lv.leftOperand())
		d.expr(e.Key, in)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			if f != nil {
				d.exprs([]ast.Expr{f.Key, f.Value}, in)
			}
		}
	case *ast.FuncCallExpr: // f()() and o:m():n() chain on the left
		d.exprs([]ast.Expr{e.Func, e.Receiver}, lv.leftOperand())
		d.exprs(e.Args, in)
	case *ast.LogicalOpExpr:
		d.expr(e.Lhs, lv.leftOperand())
		d.expr(e.Rhs, in)
	case *ast.RelationalOpExpr:
		d.expr(e.Lhs, lv.leftOperand())
		d.expr(e.Rhs, in)
	case *ast.StringConcatOpExpr:
		d.exprs([]ast.Expr{e.Lhs, e.Rhs}, in)
	case *ast.ArithmeticOpExpr:
		if e.Operator == "^" { // right-associative: a^b^c nests on the right
			d.exprs([]ast.Expr{e.Lhs, e.Rhs}, in)
			break
		}
		d.expr(e.Lhs, lv.leftOperand())
		d.expr(e.Rhs, in)
	case *ast.UnaryMinusOpExpr:
		d.expr(e.Expr, in)
	case *ast.UnaryNotOpExpr:
		d.expr(e.Expr, in)
	case *ast.UnaryLenOpExpr:
		d.expr(e.Expr, in)
	case *ast.FunctionExpr:
		d.stmts(e.Stmts, in)
	}
}

// sha1hex returns the lower-case hex SHA1 of s, the name of a script.
func sha1hex(s []byte) string {
	h := sha1.Sum(s)
	return hex.EncodeToString(h[:])
}

// luaVM is one sandboxed interpreter. It runs one script at a time; idle
// ones wait in vmPool. A luaVM never points to a Server or connection
// between runs.
type luaVM struct {
	L *lua.LState
	// envMeta is the metatable of each run's global table: reads fall back
	// to the shared base functions, which the run cannot change.
	envMeta *lua.LTable
	// libs are the library tables, handed to each run behind read-only
	// proxies.
	libs       []luaLib
	origFormat lua.LGFunction
	// env and proxies are the globals of the last run and its library
	// proxies, reused while runs leave them unchanged.
	env     *lua.LTable
	proxies []*lua.LTable
	run     *scriptRun // the run in progress, nil between runs
}

type luaLib struct {
	name string
	meta *lua.LTable // __index: the library; __newindex: an error
}

var vmPool = sync.Pool{New: func() any { return newLuaVM() }}

func newLuaVM() *luaVM {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       luaCallStackSize,
		RegistrySize:        luaRegistrySize,
		RegistryMaxSize:     luaRegistryMaxSize,
		RegistryGrowStep:    luaRegistryGrowStep,
		MinimizeStackMemory: true,
	})
	vm := &luaVM{L: L}
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	for _, name := range []string{"dofile", "loadfile", "load", "require", "module", "print", "_printregs",
		"getfenv", "setfenv", "_G"} {
		g.RawSetString(name, lua.LNil)
	}
	g.RawSetString("collectgarbage", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(0)) // no forced collections from scripts
		return 1
	}))
	g.RawSetString("loadstring", L.NewFunction(vm.loadstring))
	g.RawSetString(luaConcatName, L.NewFunction(vm.luaConcat))

	str := g.RawGetString("string").(*lua.LTable)
	vm.origFormat = str.RawGetString("format").(*lua.LFunction).GFunction
	str.RawSetString("rep", L.NewFunction(vm.strRep))
	str.RawSetString("format", L.NewFunction(vm.strFormat))
	str.RawSetString("gsub", L.NewFunction(vm.strGsub))
	str.RawSetString("gmatch", L.NewFunction(vm.strGmatch))
	str.RawSetString("find", L.NewFunction(vm.strFind))
	str.RawSetString("match", L.NewFunction(vm.strMatch))
	tab := g.RawGetString("table").(*lua.LTable)
	tab.RawSetString("concat", L.NewFunction(vm.tabConcat))
	if mt, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
		mt.RawSetString("__metatable", lua.LFalse)
	}

	redis := L.NewTable()
	for name, fn := range map[string]lua.LGFunction{
		"call":               func(L *lua.LState) int { return vm.redisCall(L, true) },
		"pcall":              func(L *lua.LState) int { return vm.redisCall(L, false) },
		"sha1hex":            luaSha1hex,
		"error_reply":        func(L *lua.LState) int { return luaReplyTable(L, "err") },
		"status_reply":       func(L *lua.LState) int { return luaReplyTable(L, "ok") },
		"log":                vm.redisLog,
		"setresp":            luaSetResp,
		"replicate_commands": func(L *lua.LState) int { L.Push(lua.LTrue); return 1 },
		"set_repl":           func(*lua.LState) int { return 0 },
	} {
		redis.RawSetString(name, L.NewFunction(fn))
	}
	for name, v := range map[string]int{
		"LOG_DEBUG": 0, "LOG_VERBOSE": 1, "LOG_NOTICE": 2, "LOG_WARNING": 3,
		"REPL_NONE": 0, "REPL_AOF": 1, "REPL_SLAVE": 2, "REPL_REPLICA": 2, "REPL_ALL": 3,
	} {
		redis.RawSetString(name, lua.LNumber(v))
	}
	g.RawSetString("redis", redis)

	readOnly := L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("attempt to modify a read-only library table")
		return 0
	})
	for _, name := range []string{"string", "table", "math", "redis"} {
		meta := L.NewTable()
		meta.RawSetString("__index", g.RawGetString(name))
		meta.RawSetString("__newindex", readOnly)
		meta.RawSetString("__metatable", lua.LFalse)
		vm.libs = append(vm.libs, luaLib{name: name, meta: meta})
		g.RawSetString(name, lua.LNil)
	}
	vm.envMeta = L.NewTable()
	vm.envMeta.RawSetString("__index", g)
	vm.envMeta.RawSetString("__metatable", lua.LFalse)
	return vm
}

// exec runs proto with KEYS and ARGV until it returns, fails or ctx ends.
func (vm *luaVM) exec(ctx context.Context, r *scriptRun, proto *lua.FunctionProto, keys, argv [][]byte) (lua.LValue, error) {
	L := vm.L
	env := vm.prepareEnv(keys, argv)
	fn := L.NewFunctionFromProto(proto)
	fn.Env = env

	r.env = env
	vm.run = r
	defer func() {
		vm.run = nil
		env.RawSetString("KEYS", lua.LNil) // do not keep the arguments in the pool
		env.RawSetString("ARGV", lua.LNil)
	}()
	L.SetContext(ctx)
	defer L.RemoveContext()
	L.SetTop(0)
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		L.SetTop(0)
		return nil, err
	}
	ret := L.Get(-1)
	L.SetTop(0)
	return ret, nil
}

// prepareEnv returns the globals of a run: the libraries (behind
// read-only proxies), _G, KEYS and ARGV, reads falling back to the base
// functions. The previous run's table is reused when that run left it as
// it found it (no global of its own, empty proxies).
func (vm *luaVM) prepareEnv(keys, argv [][]byte) *lua.LTable {
	L := vm.L
	if vm.env == nil || !vm.envClean() {
		vm.env = L.CreateTable(0, len(vm.libs)+3)
		vm.env.Metatable = vm.envMeta
		vm.proxies = make([]*lua.LTable, len(vm.libs))
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
func (vm *luaVM) envClean() bool {
	clean := vm.env.Metatable == vm.envMeta
	vm.env.ForEach(func(k, _ lua.LValue) {
		switch name, _ := k.(lua.LString); name {
		case "_G", "KEYS", "ARGV", "string", "table", "math", "redis":
		default:
			clean = false
		}
	})
	return clean
}

func luaTableEmpty(t *lua.LTable) bool {
	k, _ := t.Next(lua.LNil)
	return k == lua.LNil
}

func luaStrings(L *lua.LState, items [][]byte) *lua.LTable {
	t := L.CreateTable(len(items), 0)
	for _, it := range items {
		t.Append(lua.LString(it))
	}
	return t
}

// limit returns the memory limit of the run in progress.
func (vm *luaVM) limit() int64 {
	if vm.run != nil {
		return vm.run.maxMemory
	}
	return DefaultScriptMaxMemory
}

// redisCall is redis.call (raise true) and redis.pcall.
func (vm *luaVM) redisCall(L *lua.LState, raise bool) int {
	r := vm.run
	if r == nil {
		L.RaiseError("redis.call is only available while a script runs")
	}
	n := L.GetTop()
	if n == 0 {
		L.RaiseError("Please specify at least one argument for this redis lib call")
	}
	args := r.args[:0]
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			args = append(args, []byte(v))
		case lua.LNumber:
			args = append(args, []byte(luaNumberString(float64(v))))
		default:
			L.RaiseError("Lua redis lib command arguments must be strings or integers")
		}
	}
	name := string(clip(args[0], 64))
	reply := r.call(args)
	clear(args)
	r.args = args[:0]
	v, rest, isErr, err := respToLua(L, reply, 0)
	if err == nil && len(rest) != 0 {
		err = errors.New("trailing bytes")
	}
	if err != nil {
		// Never expected: the reply comes from the server's own writer.
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

func luaSha1hex(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.RaiseError("wrong number of arguments")
	}
	L.Push(lua.LString(sha1hex([]byte(L.CheckString(1)))))
	return 1
}

// luaReplyTable is redis.error_reply and redis.status_reply: {field=msg}.
func luaReplyTable(L *lua.LState, field string) int {
	if L.GetTop() != 1 || L.Get(1).Type() != lua.LTString {
		L.RaiseError("wrong number or type of arguments")
	}
	t := L.CreateTable(0, 1)
	t.RawSetString(field, L.Get(1))
	L.Push(t)
	return 1
}

// redisLog is redis.log(level, message...): logged at debug level.
func (vm *luaVM) redisLog(L *lua.LState) int {
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
		b.WriteString(lua.LVAsString(L.Get(i)))
	}
	if r := vm.run; r != nil && r.log != nil {
		r.log.Debug("script log", "script", r.sha, "level", level, "message", b.String())
	}
	return 0
}

// luaSetResp is redis.setresp: scripts speak RESP2 only.
func luaSetResp(L *lua.LState) int {
	if v := L.CheckInt(1); v != 2 {
		L.RaiseError("RESP version must be 2 (gridnode scripts speak RESP2 only)")
	}
	return 0
}

// loadstring compiles a chunk with the script's limits, in the script's
// globals.
func (vm *luaVM) loadstring(L *lua.LState) int {
	src := L.CheckString(1)
	name := L.OptString(2, "=(loadstring)")
	proto, err := compileLua(src, name)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	fn := L.NewFunctionFromProto(proto)
	if vm.run != nil && vm.run.env != nil {
		fn.Env = vm.run.env
	}
	L.Push(fn)
	return 1
}

// strRep is string.rep, refusing results over the memory limit.
func (vm *luaVM) strRep(L *lua.LState) int {
	s := L.CheckString(1)
	n := L.CheckInt(2)
	if n <= 0 || len(s) == 0 {
		L.Push(lua.LString(""))
		return 1
	}
	if limit := vm.limit(); int64(n) > limit/int64(len(s)) {
		L.RaiseError("string.rep: the result would be over the script memory limit of %d bytes", limit)
	}
	L.Push(lua.LString(strings.Repeat(s, n)))
	return 1
}

// strFormat is string.format, refusing formats whose widths could build a
// result over the memory limit.
func (vm *luaVM) strFormat(L *lua.LState) int {
	f := L.CheckString(1)
	bound := int64(len(f))
	for i := 2; i <= L.GetTop(); i++ {
		if s, ok := L.Get(i).(lua.LString); ok {
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

// Replies to Lua values and back, as Redis converts them.

// respToLua converts the RESP2 reply at the start of b: integer -> number,
// bulk -> string, nil -> false, array -> table, status -> {ok=...},
// error -> {err=...} (isErr). It returns the bytes after the reply.
func respToLua(L *lua.LState, b []byte, depth int) (v lua.LValue, rest []byte, isErr bool, err error) {
	if depth > maxReplyDepth {
		return nil, nil, false, errors.New("reply nested too deep")
	}
	i := bytes.Index(b, []byte("\r\n"))
	if len(b) == 0 || i < 0 {
		return nil, nil, false, errors.New("truncated reply")
	}
	line, rest := b[1:i], b[i+2:]
	switch b[0] {
	case '+', '-':
		t := L.CreateTable(0, 1)
		field := "ok"
		if b[0] == '-' {
			field = "err"
		}
		t.RawSetString(field, lua.LString(line))
		return t, rest, b[0] == '-', nil
	case ':':
		n, err := strconv.ParseInt(string(line), 10, 64)
		if err != nil {
			return nil, nil, false, err
		}
		return lua.LNumber(n), rest, false, nil
	case '_':
		return lua.LFalse, rest, false, nil
	case '$':
		n, err := strconv.Atoi(string(line))
		if err != nil {
			return nil, nil, false, err
		}
		if n < 0 {
			return lua.LFalse, rest, false, nil
		}
		if len(rest) < n+2 {
			return nil, nil, false, errors.New("truncated bulk string")
		}
		return lua.LString(rest[:n]), rest[n+2:], false, nil
	case '*':
		n, err := strconv.Atoi(string(line))
		if err != nil {
			return nil, nil, false, err
		}
		if n < 0 {
			return lua.LFalse, rest, false, nil
		}
		t := L.CreateTable(min(n, 1024), 0)
		for range n {
			var item lua.LValue
			item, rest, _, err = respToLua(L, rest, depth+1)
			if err != nil {
				return nil, nil, false, err
			}
			t.Append(item)
		}
		return t, rest, false, nil
	}
	return nil, nil, false, fmt.Errorf("unexpected reply type %q", b[0])
}

// errReplyTooLarge is the reply to a script whose result is too large.
var errReplyTooLarge = errors.New("ERR the script's reply is over the script memory limit")

// luaToReply appends the reply of a script's result: number -> integer
// (truncated), string -> bulk, true -> 1, false and nil -> nil,
// {err=...} -> error, {ok=...} -> status, other tables -> array of the
// elements 1..n before the first nil. On error the caller drops what it
// appended.
func luaToReply(w *replies, v lua.LValue, depth int, limit int) error {
	if depth > maxReplyDepth {
		return errors.New("ERR reached the nesting limit of script replies")
	}
	switch v := v.(type) {
	case lua.LNumber:
		w.int(luaInt(float64(v)))
	case lua.LString:
		w.bulk([]byte(v))
	case lua.LBool:
		if v {
			w.int(1)
		} else {
			w.null()
		}
	case *lua.LTable:
		if e, ok := v.RawGetString("err").(lua.LString); ok {
			msg := string(e)
			if msg == "" {
				msg = "ERR"
			}
			w.error(msg)
			return nil
		}
		if s, ok := v.RawGetString("ok").(lua.LString); ok {
			w.simple(strings.NewReplacer("\r", " ", "\n", " ").Replace(string(s)))
			return nil
		}
		n := 0
		for v.RawGetInt(n+1) != lua.LNil {
			n++
		}
		w.array(n)
		for i := 1; i <= n; i++ {
			if err := luaToReply(w, v.RawGetInt(i), depth+1, limit); err != nil {
				return err
			}
			if len(w.b) > limit {
				return errReplyTooLarge
			}
		}
	default:
		w.null()
	}
	if len(w.b) > limit {
		return errReplyTooLarge
	}
	return nil
}

// luaInt truncates a Lua number to an integer as Redis's (long long) cast.
func luaInt(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}
