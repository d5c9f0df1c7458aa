package lua

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// Replies to Lua values and back, as Redis converts them.

// respToLua converts the RESP2 reply at the start of b: integer -> number,
// bulk -> string, nil -> false, array -> table, status -> {ok=...},
// error -> {err=...} (isErr). It returns the bytes after the reply.
func respToLua(L *glua.LState, b []byte, depth int) (v glua.LValue, rest []byte, isErr bool, err error) {
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
		t.RawSetString(field, glua.LString(line))
		return t, rest, b[0] == '-', nil
	case ':':
		n, err := strconv.ParseInt(string(line), 10, 64)
		if err != nil {
			return nil, nil, false, err
		}
		return glua.LNumber(n), rest, false, nil
	case '_':
		return glua.LFalse, rest, false, nil
	case '$':
		n, err := strconv.Atoi(string(line))
		if err != nil {
			return nil, nil, false, err
		}
		if n < 0 {
			return glua.LFalse, rest, false, nil
		}
		if len(rest) < n+2 {
			return nil, nil, false, errors.New("truncated bulk string")
		}
		return glua.LString(rest[:n]), rest[n+2:], false, nil
	case '*':
		n, err := strconv.Atoi(string(line))
		if err != nil {
			return nil, nil, false, err
		}
		if n < 0 {
			return glua.LFalse, rest, false, nil
		}
		t := L.CreateTable(min(n, 1024), 0)
		for range n {
			var item glua.LValue
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

// ReplyWriter receives the reply of a script (Result.Write), as the
// protocol of the client that ran it encodes it. Write calls its methods
// in reply order on the caller's goroutine; none of them may block, and a
// method may not keep the []byte it is given after it returns.
type ReplyWriter interface {
	Int(n int64)
	Bulk(b []byte)
	Null()
	// Error writes an error reply: msg starts with its code (ERR, ...).
	Error(msg string)
	// Simple writes a status reply; s holds no CR or LF.
	Simple(s string)
	// Array starts an array of n elements, which follow.
	Array(n int)
	// Len is the number of bytes written so far, checked against the
	// limit of Write.
	Len() int
}

// Result is what a script returned. It is valid until its VM runs again.
type Result struct{ v glua.LValue }

// Write writes the reply of a script's result as Redis converts it:
// number -> integer (truncated), string -> bulk, true -> 1, false and nil
// -> nil, {err=...} -> error, {ok=...} -> status, other tables -> array of
// the elements 1..n before the first nil. It fails when tables nest too
// deep or w's Len grows over limit; the caller then drops what was
// written.
func (res Result) Write(w ReplyWriter, limit int) error { return writeReply(w, res.v, 0, limit) }

// errReplyTooLarge is the reply to a script whose result is too large.
var errReplyTooLarge = errors.New("ERR the script's reply is over the script memory limit")

// writeReply writes the reply of v (see Result.Write).
func writeReply(w ReplyWriter, v glua.LValue, depth int, limit int) error {
	if depth > maxReplyDepth {
		return errors.New("ERR reached the nesting limit of script replies")
	}
	switch v := v.(type) {
	case glua.LNumber:
		w.Int(luaInt(float64(v)))
	case glua.LString:
		w.Bulk([]byte(v))
	case glua.LBool:
		if v {
			w.Int(1)
		} else {
			w.Null()
		}
	case *glua.LTable:
		if msg, ok := errField(v); ok {
			w.Error(msg)
			return nil
		}
		if s, ok := v.RawGetString("ok").(glua.LString); ok {
			w.Simple(strings.NewReplacer("\r", " ", "\n", " ").Replace(string(s)))
			return nil
		}
		n := 0
		for v.RawGetInt(n+1) != glua.LNil {
			n++
		}
		w.Array(n)
		for i := 1; i <= n; i++ {
			if err := writeReply(w, v.RawGetInt(i), depth+1, limit); err != nil {
				return err
			}
			if w.Len() > limit {
				return errReplyTooLarge
			}
		}
	default:
		w.Null()
	}
	if w.Len() > limit {
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
