package lua

import (
	"context"
	"strings"

	glua "github.com/yuin/gopher-lua"

	"github.com/sessiongrid/sessiongrid/server/internal/luapattern"
)

// Lua's pattern functions (string.find, match, gmatch, gsub) and
// table.concat, replaced so that a script's time limit, SCRIPT KILL and
// shutdown stop them in the middle of a call: gopher-lua checks the
// script's context only between instructions, and one backtracking match
// can run for hours. The matcher (package luapattern) checks the context
// every few thousand steps; table.concat checks it between elements and
// refuses results over the memory limit.

// luaPatternSpecials are the characters that make string.find match a
// pattern instead of searching plain text (lstrlib.c's SPECIALS).
const luaPatternSpecials = "^$*+?.([%-"

// stopCheck returns the check the matcher calls: the cause of the script's
// context once it is done.
func stopCheck(L *glua.LState) func() error {
	ctx := L.Context()
	if ctx == nil {
		return nil
	}
	return func() error {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return nil
	}
}

// raise raises err as a Lua error.
func raise(L *glua.LState, err error) {
	L.RaiseError("%s", err.Error())
}

// luaStart converts Lua's init argument (1-based, negative from the end)
// to a byte offset in 0..n, as Lua 5.1 does.
func luaStart(init, n int) int {
	if init < 0 {
		init = n + init + 1
	}
	init--
	return min(max(init, 0), n)
}

// pushCapture pushes capture i of the match [start, end).
func pushCapture(L *glua.LState, st *luapattern.State, str string, i, start, end int) {
	s, e, pos, isPos, err := st.Capture(i, start, end)
	if err != nil {
		raise(L, err)
	}
	if isPos {
		L.Push(glua.LNumber(pos))
		return
	}
	L.Push(glua.LString(str[s:e]))
}

// pushCaptures pushes every capture of the match [start, end), or the whole
// match when the pattern has none (and whole is set), and returns how many.
func pushCaptures(L *glua.LState, st *luapattern.State, str string, start, end int, whole bool) int {
	n := st.Captures()
	if n == 0 && whole {
		n = 1
	}
	for i := range n {
		pushCapture(L, st, str, i, start, end)
	}
	return n
}

// strFindAux is lstrlib.c's str_find_aux: string.find (find) and
// string.match.
func (vm *VM) strFindAux(L *glua.LState, find bool) int {
	str := L.CheckString(1)
	pat := L.CheckString(2)
	init := luaStart(L.OptInt(3, 1), len(str))
	if find && (glua.LVAsBool(L.Get(4)) || !strings.ContainsAny(pat, luaPatternSpecials)) {
		if i := strings.Index(str[init:], pat); i >= 0 {
			L.Push(glua.LNumber(init + i + 1))
			L.Push(glua.LNumber(init + i + len(pat)))
			return 2
		}
		L.Push(glua.LNil)
		return 1
	}
	st := luapattern.New(str, pat, stopCheck(L))
	p, anchor := 0, strings.HasPrefix(pat, "^")
	if anchor {
		p = 1
	}
	for s := init; s <= len(str); s++ {
		e, err := st.MatchAt(s, p)
		if err != nil {
			raise(L, err)
		}
		if e >= 0 {
			if find {
				L.Push(glua.LNumber(s + 1))
				L.Push(glua.LNumber(e))
				return 2 + pushCaptures(L, st, str, s, e, false)
			}
			return pushCaptures(L, st, str, s, e, true)
		}
		if anchor {
			break
		}
	}
	L.Push(glua.LNil)
	return 1
}

func (vm *VM) strFind(L *glua.LState) int  { return vm.strFindAux(L, true) }
func (vm *VM) strMatch(L *glua.LState) int { return vm.strFindAux(L, false) }

// strGmatch is string.gmatch (Lua 5.1: '^' is not an anchor there).
func (vm *VM) strGmatch(L *glua.LState) int {
	str := L.CheckString(1)
	pat := L.CheckString(2)
	last := 0
	L.Push(L.NewFunction(func(L *glua.LState) int {
		st := luapattern.New(str, pat, stopCheck(L))
		for s := last; s <= len(str); s++ {
			e, err := st.MatchAt(s, 0)
			if err != nil {
				raise(L, err)
			}
			if e >= 0 {
				last = e
				if e == s {
					last++ // an empty match: go on at least one byte further
				}
				return pushCaptures(L, st, str, s, e, true)
			}
		}
		last = len(str) + 1
		return 0
	}))
	return 1
}

// strGsub is string.gsub in linear time and memory, refusing results over
// the memory limit. The replacement string follows Lua 5.1: %0-%9 are
// captures, % before any other character stands for that character.
func (vm *VM) strGsub(L *glua.LState) int {
	str := L.CheckString(1)
	pat := L.CheckString(2)
	L.CheckTypes(3, glua.LTString, glua.LTTable, glua.LTFunction, glua.LTNumber)
	repl := L.CheckAny(3)
	if n, ok := repl.(glua.LNumber); ok {
		repl = glua.LString(luaNumberString(float64(n)))
	}
	most := L.OptInt(4, len(str)+1)
	limit := vm.limit()
	var b strings.Builder
	write := func(s string) {
		if int64(b.Len())+int64(len(s)) > limit {
			L.RaiseError("string.gsub: the result would be over the script memory limit of %d bytes", limit)
		}
		b.WriteString(s)
	}
	st := luapattern.New(str, pat, stopCheck(L))
	p, anchor := 0, strings.HasPrefix(pat, "^")
	if anchor {
		p = 1
	}
	src, n := 0, 0
loop:
	for n < most {
		e, err := st.MatchAt(src, p)
		if err != nil {
			raise(L, err)
		}
		if e >= 0 {
			n++
			vm.gsubValue(L, st, str, src, e, repl, write)
		}
		switch {
		case e > src:
			src = e
		case src < len(str):
			write(str[src : src+1])
			src++
		default:
			break loop
		}
		if anchor {
			break
		}
	}
	write(str[src:])
	L.Push(glua.LString(b.String()))
	L.Push(glua.LNumber(n))
	return 2
}

// gsubValue writes the replacement of the match [s, e) (lstrlib.c's
// add_value).
func (vm *VM) gsubValue(L *glua.LState, st *luapattern.State, str string, s, e int, repl glua.LValue, write func(string)) {
	whole := str[s:e]
	var v glua.LValue
	switch r := repl.(type) {
	case glua.LString:
		rs := string(r)
		for i := 0; i < len(rs); i++ {
			j := i
			for j < len(rs) && rs[j] != '%' {
				j++
			}
			write(rs[i:j])
			if i = j; i+1 >= len(rs) {
				write(rs[i:])
				break
			}
			i++
			switch c := rs[i]; {
			case c == '0':
				write(whole)
			case '1' <= c && c <= '9':
				pushCapture(L, st, str, int(c-'1'), s, e)
				write(glua.LVAsString(L.Get(-1)))
				L.Pop(1)
			default:
				write(rs[i : i+1])
			}
		}
		return
	case *glua.LTable:
		pushCapture(L, st, str, 0, s, e)
		key := L.Get(-1)
		L.Pop(1)
		v = L.GetTable(r, key)
	case *glua.LFunction:
		top := L.GetTop()
		L.Push(r)
		nargs := pushCaptures(L, st, str, s, e, true)
		L.Call(nargs, 1)
		v = L.Get(-1)
		L.SetTop(top)
	}
	switch v := v.(type) {
	case glua.LString:
		write(string(v))
	case glua.LNumber:
		write(luaNumberString(float64(v)))
	default:
		if glua.LVAsBool(v) {
			L.RaiseError("invalid replacement value (a %s)", v.Type().String())
		}
		write(whole) // nil or false: keep the original text
	}
}

// tabConcat is table.concat, refusing results over the memory limit and
// stopping when the script is stopped.
func (vm *VM) tabConcat(L *glua.LState) int {
	t := L.CheckTable(1)
	sep := L.OptString(2, "")
	i := L.OptInt(3, 1)
	j := L.OptInt(4, t.Len())
	limit := vm.limit()
	check := stopCheck(L)
	// Measure first, so that a result over the limit is refused before
	// anything is allocated.
	parts := make([]string, 0, min(max(j-i+1, 0), 1024))
	total := int64(0)
	for k := i; k <= j; k++ {
		var s string
		switch v := t.RawGetInt(k).(type) {
		case glua.LString:
			s = string(v)
		case glua.LNumber:
			s = luaNumberString(float64(v))
		default:
			L.RaiseError("invalid value (%s) at index %d in table for 'concat'", v.Type().String(), k)
		}
		total += int64(len(s))
		if k < j {
			total += int64(len(sep))
		}
		if total > limit {
			L.RaiseError("table.concat: the result would be over the script memory limit of %d bytes", limit)
		}
		if k%1024 == 0 && check != nil {
			if err := check(); err != nil {
				raise(L, err)
			}
		}
		parts = append(parts, s)
	}
	var b strings.Builder
	b.Grow(int(total))
	for k, s := range parts {
		if k > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s)
	}
	L.Push(glua.LString(b.String()))
	return 1
}
