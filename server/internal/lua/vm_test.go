package lua

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// Reply tokens of tokens, a ReplyWriter that records a reply flat, in
// order: Int as int64, Bulk as string, Null as nil, and these.
type (
	errorReply  string
	statusReply string
	arrayHeader int
)

// tokens records the reply of a script.
type tokens struct {
	list []any
	size int
}

func (w *tokens) add(v any, size int) { w.list = append(w.list, v); w.size += size }

func (w *tokens) Int(n int64)      { w.add(n, 8) }
func (w *tokens) Bulk(b []byte)    { w.add(string(b), len(b)) }
func (w *tokens) Null()            { w.add(nil, 1) }
func (w *tokens) Error(msg string) { w.add(errorReply(msg), len(msg)) }
func (w *tokens) Simple(s string)  { w.add(statusReply(s), len(s)) }
func (w *tokens) Array(n int)      { w.add(arrayHeader(n), 8) }
func (w *tokens) Len() int         { return w.size }

// run compiles src and runs it on vm with keys and the Run r (Call: every
// call fails), and returns the reply's tokens or the script's error.
func run(t *testing.T, vm *VM, src string, r Run) ([]any, error) {
	t.Helper()
	s, err := Compile([]byte(src))
	if err != nil {
		return nil, err
	}
	if r.Call == nil {
		r.Call = func([][]byte) []byte { return []byte("-ERR no calls in this test\r\n") }
	}
	r.Name = SHA1Hex([]byte(src))
	res, err := vm.Run(context.Background(), s, r)
	if err != nil {
		return nil, err
	}
	var w tokens
	if err := res.Write(&w, DefaultMaxMemory); err != nil {
		return nil, err
	}
	return w.list, nil
}

// The reply conversions both ways, with the calls answered by a fake
// server.
func TestRunConvertsReplies(t *testing.T) {
	vm := NewVM()
	var called [][]string
	call := func(args [][]byte) []byte {
		var names []string
		for _, a := range args {
			names = append(names, string(a))
		}
		called = append(called, names)
		switch strings.ToLower(names[0]) {
		case "get":
			return []byte("$-1\r\n")
		case "hgetall":
			return []byte("*2\r\n$1\r\nf\r\n$1\r\nv\r\n")
		case "incr":
			return []byte(":7\r\n")
		case "set":
			return []byte("+OK\r\n")
		}
		return []byte("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
	}
	for _, tc := range []struct {
		script string
		want   []any
	}{
		{"return 3.99", []any{int64(3)}},
		{"return {1, 'a', {2, 'b'}, nil, 3}", []any{arrayHeader(3), int64(1), "a", arrayHeader(2), int64(2), "b"}},
		{"return {ok = 'FINE'}", []any{statusReply("FINE")}},
		{"return {err = ''}", []any{errorReply("ERR")}},
		{"return false", []any{nil}},
		{"return {KEYS[1], ARGV[1], #KEYS, #ARGV}", []any{arrayHeader(4), "k", "a", int64(1), int64(1)}},
		{"return redis.call('get', KEYS[1]) == false", []any{int64(1)}},
		{"return redis.call('hgetall', KEYS[1])", []any{arrayHeader(2), "f", "v"}},
		{"return redis.call('incr', KEYS[1], 2.5, 7) + 1", []any{int64(8)}},
		{"return redis.call('set', KEYS[1], 'v').ok", []any{"OK"}},
		{"return redis.pcall('lpush', KEYS[1], 'v').err", []any{"WRONGTYPE Operation against a key holding the wrong kind of value"}},
	} {
		got, err := run(t, vm, tc.script, Run{Keys: [][]byte{[]byte("k")}, Argv: [][]byte{[]byte("a")}, Call: call})
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s = %#v, %v; want %#v", tc.script, got, err, tc.want)
		}
	}
	if want := []string{"incr", "k", "2.5", "7"}; !reflect.DeepEqual(called[2], want) {
		t.Errorf("the call of incr got %q, want %q (numbers as Lua 5.1 formats them)", called[2], want)
	}
}

// A script's errors come back as the error replies Redis gives.
func TestRunErrors(t *testing.T) {
	vm := NewVM()
	call := func([][]byte) []byte { return []byte("-WRONGTYPE wrong kind\r\n") }
	for _, tc := range []struct{ script, want string }{
		{"return redis.call('get', 'k')", "WRONGTYPE wrong kind"},
		{"error({err = 'OWN code'})", "OWN code"},
		{"error('boom')", "ERR user_script:1: boom script: "},
		{"return redis.call()", "ERR user_script:1: Please specify at least one argument"},
		{"string.rep = nil", "ERR user_script:1: attempt to modify a read-only library table"},
	} {
		_, err := run(t, vm, tc.script, Run{Call: call})
		e, ok := err.(*Error)
		if !ok || !strings.HasPrefix(e.Reply, tc.want) || !e.Reusable {
			t.Errorf("%s: err = %#v, want a reusable *Error starting with %q", tc.script, err, tc.want)
		}
	}
	if _, err := run(t, vm, "local t = {} t[1] = t return t", Run{}); err == nil ||
		err.Error() != "ERR reached the nesting limit of script replies" {
		t.Errorf("cyclic reply: err = %v", err)
	}
	if _, err := Compile([]byte("return (1")); err == nil || !strings.HasPrefix(err.Error(), "user_script") {
		t.Errorf("syntax error: err = %v", err)
	}
}

// A script cannot change what the next one sees (globals, libraries).
func TestScriptIsolation(t *testing.T) {
	vm := NewVM()
	const check = "return {tostring(x), tostring(y), tostring(string.evil), type(pairs), type(string.rep), #KEYS, type(redis.call)}"
	want := []any{arrayHeader(7), "nil", "nil", "nil", "function", "function", int64(1), "function"}
	for _, spoil := range []string{
		"x = 42",
		"_G.y = 1",
		"rawset(string, 'evil', 1)",
		"pairs = nil",
		"string = {rep = 1}",
		"KEYS = nil; x = 1",
		"redis = nil",
		"setmetatable(_G, nil)",
		"local s = string; rawset(s, 'rep', nil)",
	} {
		for range 3 { // the same VM runs them all
			if _, err := run(t, vm, spoil+"; return 1", Run{}); err != nil && !strings.Contains(err.Error(), "protected metatable") {
				t.Fatalf("%s: %v", spoil, err)
			}
			got, err := run(t, vm, check, Run{Keys: [][]byte{[]byte("k")}})
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("after %q, the next script sees %v, %v", spoil, got, err)
			}
		}
	}
}

// Chains that Lua 5.1 parses without syntax levels — left-associative
// operators, field and call chains — compile here too.
func TestScriptLongLeftChains(t *testing.T) {
	vm := NewVM()
	for _, tc := range []struct {
		name, script string
		want         int64
	}{
		{"1,500-term sum", "return 1" + strings.Repeat("+1", 1499), 1500},
		{"1,500-term sum of a variable", "local a = 1 return a" + strings.Repeat("+a", 1499), 1500},
		{"1,500 and", "return (1" + strings.Repeat(" and 1", 1499) + ") and 7", 7},
		{"1,200 fields", "local t = {} t.t = t return t" + strings.Repeat(".t", 1199) + " == t and 1 or 0", 1},
	} {
		got, err := run(t, vm, tc.script, Run{})
		if err != nil || !reflect.DeepEqual(got, []any{tc.want}) {
			t.Errorf("%s: %v, %v; want %d", tc.name, got, err, tc.want)
		}
	}
}
