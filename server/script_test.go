package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/partition"
	"github.com/sessiongrid/sessiongrid/server/internal/lua"
)

// evalResult runs EVAL and returns its value and error.
func evalResult(t *testing.T, c *redis.Client, script string, keys []string, args ...any) (any, error) {
	t.Helper()
	return c.Eval(context.Background(), script, keys, args...).Result()
}

// wantEvalError checks that the script fails with an error starting with prefix.
func wantEvalError(t *testing.T, c *redis.Client, script string, keys []string, prefix string, args ...any) {
	t.Helper()
	v, err := evalResult(t, c, script, keys, args...)
	if err == nil || errors.Is(err, redis.Nil) || !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("EVAL %q = %v, %v; want an error starting with %q", script, v, err, prefix)
	}
}

func TestEvalReplyConversion(t *testing.T) {
	n := startNode(t, Config{})
	protocols(t, func(t *testing.T, proto int) {
		c := n.client(t, proto)
		ctx := context.Background()
		c.HSet(ctx, "conv:h", "f", "v")
		c.Set(ctx, "conv:n", "10", 0)
		cases := []struct {
			script string
			keys   []string
			args   []any
			want   any // nil: redis.Nil
		}{
			// Lua -> reply.
			{"return 42", nil, nil, int64(42)},
			{"return 3.99", nil, nil, int64(3)},
			{"return -3.99", nil, nil, int64(-3)},
			{"return 'x'", nil, nil, "x"},
			{"return true", nil, nil, int64(1)},
			{"return false", nil, nil, nil},
			{"return nil", nil, nil, nil},
			{"return {1, 'a', {2, 'b'}}", nil, nil, []any{int64(1), "a", []any{int64(2), "b"}}},
			{"return {1, nil, 3}", nil, nil, []any{int64(1)}},
			{"return {}", nil, nil, []any{}},
			{"return {ok = 'FINE'}", nil, nil, "FINE"},
			{"return redis.status_reply('FINE')", nil, nil, "FINE"},
			{"return {KEYS[1], KEYS[2], ARGV[1], #KEYS, #ARGV}", []string{"a", "b"}, []any{"x"},
				[]any{"a", "b", "x", int64(2), int64(1)}},
			// Reply -> Lua.
			{"return redis.call('incrby', KEYS[1], 5)", []string{"conv:n"}, nil, int64(15)},
			{"return type(redis.call('incrby', KEYS[1], 1))", []string{"conv:n"}, nil, "number"},
			{"return redis.call('get', 'conv:missing') == false", nil, nil, int64(1)},
			{"local r = redis.call('set', KEYS[1], 'v') return type(r) .. ':' .. r.ok", []string{"conv:s"}, nil, "table:OK"},
			{"return redis.pcall('get', 'conv:h').err", nil, nil, msgWrongType},
			{"return redis.call('hgetall', 'conv:h')", nil, nil, []any{"f", "v"}},
			{"return redis.call('hmget', 'conv:h', 'f', 'nope')", nil, nil, []any{"v", nil}},
			{"local r = redis.call('hmget', 'conv:h', 'nope') return type(r[1])", nil, nil, "boolean"},
			{"return redis.call('ping').ok", nil, nil, "PONG"},
			// Numbers passed to commands are formatted as Lua does.
			{"redis.call('set', KEYS[1], 12.5) return redis.call('get', KEYS[1])", []string{"conv:f"}, nil, "12.5"},
			{"redis.call('set', KEYS[1], 7) return redis.call('get', KEYS[1])", []string{"conv:f"}, nil, "7"},
			{"return redis.call('get', KEYS[1]) + 1", []string{"conv:f"}, nil, int64(8)},
			{"return redis.sha1hex('abc')", nil, nil, "a9993e364706816aba3e25717850c26c9cd0d89d"},
			{"return redis.error_reply('X y').err", nil, nil, "X y"},
			{"redis.log(redis.LOG_WARNING, 'hello', 1) return 1", nil, nil, int64(1)},
			// Binary-safe strings both ways.
			{"return ARGV[1]", nil, []any{"a\x00b\r\nc"}, "a\x00b\r\nc"},
		}
		for _, tc := range cases {
			got, err := evalResult(t, c, tc.script, tc.keys, tc.args...)
			if tc.want == nil {
				if !errors.Is(err, redis.Nil) {
					t.Errorf("EVAL %q = %#v, %v; want nil", tc.script, got, err)
				}
				continue
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("EVAL %q = %#v, %v; want %#v", tc.script, got, err, tc.want)
			}
		}
		// Error replies keep their code.
		wantEvalError(t, c, "return {err = 'MYCODE my message'}", nil, "MYCODE my message")
		wantEvalError(t, c, "return redis.error_reply('MYCODE x')", nil, "MYCODE x")
		wantEvalError(t, c, "return redis.call('get', 'conv:h')", nil, msgWrongType)
		wantEvalError(t, c, "error({err = 'OWN code'})", nil, "OWN code")
		wantEvalError(t, c, "error('boom')", nil, "ERR user_script:1: boom")
	})
}

func TestEvalArguments(t *testing.T) {
	n := startNode(t, Config{})
	c := n.client(t, 2)
	ctx := context.Background()
	for _, tc := range []struct {
		args []any
		want string
	}{
		{[]any{"EVAL", "return 1"}, "ERR wrong number of arguments for 'eval' command"},
		{[]any{"EVAL", "return 1", "x"}, msgNotInteger},
		{[]any{"EVAL", "return 1", "-1"}, "ERR Number of keys can't be negative"},
		{[]any{"EVAL", "return 1", "2", "k"}, "ERR Number of keys can't be greater than number of args"},
		{[]any{"EVALSHA", strings.Repeat("0", 40), "0"}, "NOSCRIPT No matching script. Please use EVAL."},
		{[]any{"EVALSHA", "nope", "0"}, "NOSCRIPT No matching script. Please use EVAL."},
		{[]any{"SCRIPT"}, "ERR wrong number of arguments for 'script' command"},
		{[]any{"SCRIPT", "LOAD"}, "ERR wrong number of arguments for 'script|load' command"},
		{[]any{"SCRIPT", "EXISTS"}, "ERR wrong number of arguments for 'script|exists' command"},
		{[]any{"SCRIPT", "FLUSH", "LATER"}, "ERR SCRIPT FLUSH only support SYNC|ASYNC option"},
		{[]any{"SCRIPT", "NOPE"}, "ERR unknown subcommand 'NOPE'. Try SCRIPT HELP."},
		{[]any{"SCRIPT", "KILL"}, "NOTBUSY No scripts in execution right now."},
		{[]any{"SCRIPT", "LOAD", "retrun 1"}, "ERR Error compiling script (new function): user_script"},
	} {
		err := c.Do(ctx, tc.args...).Err()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
	if got, err := c.Do(ctx, "SCRIPT", "HELP").StringSlice(); err != nil || len(got) < 5 {
		t.Errorf("SCRIPT HELP = %q, %v", got, err)
	}
}

func TestScriptCache(t *testing.T) {
	n := startNode(t, Config{})
	c := n.client(t, 3)
	ctx := context.Background()
	src := "return ARGV[1] .. '!'"
	sha, err := c.ScriptLoad(ctx, src).Result()
	if err != nil || sha != lua.SHA1Hex([]byte(src)) {
		t.Fatalf("SCRIPT LOAD = %q, %v; want %q", sha, err, lua.SHA1Hex([]byte(src)))
	}
	if got, err := c.EvalSha(ctx, sha, nil, "hi").Result(); err != nil || got != "hi!" {
		t.Fatalf("EVALSHA = %v, %v", got, err)
	}
	if got, err := c.EvalSha(ctx, strings.ToUpper(sha), nil, "up").Result(); err != nil || got != "up!" {
		t.Fatalf("EVALSHA with an upper-case SHA = %v, %v", got, err)
	}
	if got, err := c.ScriptExists(ctx, sha, strings.ToUpper(sha), "nope").Result(); err != nil ||
		!reflect.DeepEqual(got, []bool{true, true, false}) {
		t.Fatalf("SCRIPT EXISTS = %v, %v", got, err)
	}
	// EVAL caches the script too.
	if _, err := c.Eval(ctx, "return 2", nil).Result(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.EvalSha(ctx, lua.SHA1Hex([]byte("return 2")), nil).Result(); err != nil || got != int64(2) {
		t.Fatalf("EVALSHA of an EVAL'd script = %v, %v", got, err)
	}
	// EVALSHA_RO and EVAL_RO.
	if got, err := c.EvalShaRO(ctx, sha, nil, "ro").Result(); err != nil || got != "ro!" {
		t.Fatalf("EVALSHA_RO = %v, %v", got, err)
	}
	if err := c.Do(ctx, "SCRIPT", "FLUSH", "ASYNC").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.EvalSha(ctx, sha, nil, "x").Err(); err == nil || err.Error() != "NOSCRIPT No matching script. Please use EVAL." {
		t.Fatalf("EVALSHA after SCRIPT FLUSH: err = %v", err)
	}

	// The cache is bounded: the oldest scripts go first.
	sc := scriptingOf(n.srv)
	sc.cache.mu.Lock()
	sc.cache.maxEntries = 3
	sc.cache.mu.Unlock()
	var shas []string
	for i := range 5 {
		s, err := c.ScriptLoad(ctx, "return "+strconv.Itoa(i)).Result()
		if err != nil {
			t.Fatal(err)
		}
		shas = append(shas, s)
	}
	if got, err := c.ScriptExists(ctx, shas...).Result(); err != nil ||
		!reflect.DeepEqual(got, []bool{false, false, true, true, true}) {
		t.Fatalf("SCRIPT EXISTS after overflowing a 3-script cache = %v, %v", got, err)
	}
	sc.cache.mu.Lock()
	sc.cache.maxEntries, sc.cache.maxBytes = DefaultScriptCacheEntries, 2*(len("return 1")+sc.cache.byHash[shas[4]].prog.Size())+1
	sc.cache.mu.Unlock()
	c.ScriptLoad(ctx, "return 'a'")
	if got := sc.cache.len(); got > 2 {
		t.Fatalf("%d scripts cached, want at most 2 under the byte bound", got)
	}
	// redis-py's pattern: EVALSHA, NOSCRIPT, SCRIPT LOAD, EVALSHA.
	script := redis.NewScript("return 'loaded'")
	if got, err := script.Run(ctx, c, nil).Result(); err != nil || got != "loaded" {
		t.Fatalf("go-redis Script.Run = %v, %v", got, err)
	}
}

// TestBadScripts checks that scripts outside the rules get a clear error
// and that the node keeps serving.
func TestBadScripts(t *testing.T) {
	n := startNode(t, Config{})
	scriptingOf(n.srv).setLimits(10*time.Second, 32<<20)
	c := n.client(t, 2, func(o *redis.Options) { o.ReadTimeout = time.Minute })
	other := n.client(t, 3)
	ctx := context.Background()
	cases := []struct {
		name, script, want string
	}{
		{"syntax error", "return (1", "ERR Error compiling script (new function): user_script"},
		{"runtime error", "local t = nil; return t.x", "ERR user_script:1: attempt to index a non-table object(nil)"},
		{"unknown command", "return redis.call('nosuch', 'x')", "ERR unknown command 'nosuch', with args beginning with: 'x'"},
		{"arity", "return redis.call('get')", "ERR wrong number of arguments for 'get' command"},
		{"no command", "return redis.call()", "ERR user_script:1: Please specify at least one argument"},
		{"bad argument", "return redis.call('get', {})", "ERR user_script:1: Lua redis lib command arguments must be strings or integers"},
		{"too deep", "return 'a'" + strings.Repeat("..'a'", 2000), "ERR Error compiling script (new function): user_script: chunk has too many syntax levels"},
		{"too complex", "local a = 1 return a" + strings.Repeat("+a", 2500), "ERR Error compiling script (new function): user_script: expression too complex (over 2000 nested operations)"},
		{"too large", "return '" + strings.Repeat("x", MaxScriptSource) + "'", "ERR Error compiling script (new function): script of"},
		{"deep loadstring", "local f, err = loadstring(string.rep('do ', 2000) .. string.rep('end ', 2000)) return err", ""},
		{"string.rep", "return string.rep('x', 1e12)", "ERR user_script:1: string.rep: the result would be over the script memory limit"},
		{"string.format", "return string.format('%999999d%999999d', 1, 2) .. string.format(string.rep('%999999d', 40), " +
			strings.TrimSuffix(strings.Repeat("1,", 40), ",") + ")", "ERR user_script:1: string.format: the result could be over"},
		// (The memory watchdog may see the heap grow first.)
		{"string.gsub", "return string.gsub(string.rep('x', 10), '.', string.rep('y', 4e6))", "ERR user_script:1: string.gsub: the result would be over|ERR Script killed: its memory grew"},
		{"string.rep loop", "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end", "ERR Script killed: its memory grew over the limit"},
		{"doubling", "local s = 'x' while true do s = s .. s end", "ERR user_script:1: string concatenation: the result would be over|ERR Script killed: its memory grew over the limit"},
		{"recursion", "local function f(n) return 1 + f(n + 1) end return f(1)", "ERR lua callstack overflow"},
		{"huge unpack", "return unpack({}, 1, 1e8)", "ERR user_script:1: registry overflow"},
		{"cyclic reply", "local t = {} t[1] = t return t", "ERR reached the nesting limit of script replies"},
		{"read-only library", "string.rep = nil", "ERR user_script:1: attempt to modify a read-only library table"},
		{"read-only script", "return redis.call('set', 'k', 'v')", "ERR Write commands are not allowed from read-only scripts."},
	}
	for _, tc := range cases {
		var err error
		var v any
		if tc.name == "read-only script" {
			v, err = c.EvalRO(ctx, tc.script, nil).Result()
		} else {
			v, err = c.Eval(ctx, tc.script, nil).Result()
		}
		want := strings.Split(tc.want, "|")
		matches := err != nil && slices.ContainsFunc(want, func(w string) bool { return strings.HasPrefix(err.Error(), w) })
		switch {
		case tc.want == "":
			if err != nil || !strings.Contains(fmt.Sprint(v), "too many syntax levels") {
				t.Errorf("%s: %v, %v; want the compile error as a value", tc.name, v, err)
			}
		case !matches:
			t.Errorf("%s: EVAL = %v, %v; want an error starting with %q", tc.name, v, err, tc.want)
		}
		if got, err := other.Ping(ctx).Result(); err != nil || got != "PONG" {
			t.Fatalf("%s: the node stopped serving: PING = %q, %v", tc.name, got, err)
		}
	}
	// Commands that touch the connection or the server are not callable.
	for _, cmd := range []string{"client", "config", "auth", "hello", "select", "quit", "reset", "info",
		"command", "eval", "evalsha", "script", "grid.table", "grid.owner"} {
		wantEvalError(t, c, "return redis.call('"+cmd+"', 'x')", nil,
			"ERR This Redis command is not allowed from script: '"+cmd+"'")
	}
	// The sandbox: no os, io, file or module access.
	got, err := c.Eval(ctx, `return {type(os), type(io), type(require), type(dofile), type(loadfile), type(load),
		type(print), type(debug), type(package), type(getfenv), type(setfenv), type(coroutine), tostring(getmetatable(''))}`, nil).Result()
	if err != nil || !reflect.DeepEqual(got, []any{"nil", "nil", "nil", "nil", "nil", "nil", "nil", "nil", "nil", "nil", "nil", "nil", "false"}) {
		t.Errorf("sandbox globals = %v, %v", got, err)
	}
	// The node still serves data commands.
	if err := other.Set(ctx, "after", "ok", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Eval(ctx, "return redis.call('get', KEYS[1])", []string{"after"}).Result(); err != nil || got != "ok" {
		t.Fatalf("EVAL after the bad scripts = %v, %v", got, err)
	}
}

// scriptRunning reports whether a script runs on the node.
func scriptRunning(s *Server) bool {
	sc := scriptingOf(s)
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.cancel != nil
}

// TestScriptTimeout runs an endless script: the node answers other clients
// while it runs, data commands wait for its end, and it is stopped at the
// time limit.
func TestScriptTimeout(t *testing.T) {
	n := startNode(t, Config{})
	const limit = 700 * time.Millisecond
	scriptingOf(n.srv).setLimits(limit, DefaultScriptMaxMemory)
	c, other := n.client(t, 2), n.client(t, 2)
	ctx := context.Background()
	other.Set(ctx, "k", "v", 0)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- c.Eval(ctx, "redis.call('set', 'k', 'written'); while true do end", nil).Err() }()
	waitFor(t, "the script to run", func() bool { return scriptRunning(n.srv) })
	if got, err := other.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING during the script = %q, %v", got, err)
	}
	if !scriptRunning(n.srv) {
		t.Fatalf("the script ended before PING was answered (%v): cannot tell that PING did not wait", time.Since(start))
	}
	// A data command waits for the script (it sees no half-done script).
	got, err := other.Get(ctx, "k").Result()
	if err != nil || got != "written" {
		t.Fatalf("GET during the script = %q, %v", got, err)
	}
	if elapsed := time.Since(start); elapsed < limit {
		t.Fatalf("GET answered after %v, before the script's end", elapsed)
	}
	err = <-done
	if err == nil || !strings.HasPrefix(err.Error(), "ERR Script killed: it ran longer than the time limit of 700ms") {
		t.Fatalf("endless script: err = %v", err)
	}
	if got, err := c.Eval(ctx, "return redis.call('get', 'k')", nil).Result(); err != nil || got != "written" {
		t.Fatalf("EVAL after the timeout = %v, %v", got, err)
	}
}

func TestScriptKill(t *testing.T) {
	n := startNode(t, Config{})
	c, other := n.client(t, 2), n.client(t, 2)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { done <- c.Eval(ctx, "while true do end", nil).Err() }()
	waitFor(t, "the script to run", func() bool { return scriptRunning(n.srv) })
	if err := other.Do(ctx, "SCRIPT", "KILL").Err(); err != nil {
		t.Fatalf("SCRIPT KILL: %v", err)
	}
	if err := <-done; err == nil || !strings.HasPrefix(err.Error(), "ERR Script killed by user with SCRIPT KILL") {
		t.Fatalf("killed script: err = %v", err)
	}
	if err := other.Do(ctx, "SCRIPT", "KILL").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOTBUSY") {
		t.Fatalf("SCRIPT KILL with no script: err = %v", err)
	}
}

// TestScriptAtomicity runs read-modify-write scripts that take a while
// between their read and their write, while other clients INCR the same
// key: no increment may be lost.
func TestScriptAtomicity(t *testing.T) {
	n := startNode(t, Config{})
	ctx := context.Background()
	const script = `
		local v = tonumber(redis.call('get', KEYS[1]) or '0')
		local spin = 0
		for i = 1, tonumber(ARGV[1]) do spin = spin + i end
		redis.call('set', KEYS[1], v + 1)
		return v + 1`
	const scripters, scripts, incrers, incrs = 2, 15, 3, 100
	var wg sync.WaitGroup
	errc := make(chan error, scripters+incrers)
	for range scripters {
		c := n.client(t, 2)
		wg.Go(func() {
			for range scripts {
				if err := c.Eval(ctx, script, []string{"atomic"}, 20000).Err(); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	for range incrers {
		c := n.client(t, 2)
		wg.Go(func() {
			for range incrs {
				if err := c.Incr(ctx, "atomic").Err(); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if got, err := n.client(t, 2).Get(ctx, "atomic").Int(); err != nil || got != scripters*scripts+incrers*incrs {
		t.Fatalf("counter = %d, %v; want %d (an update was lost)", got, err, scripters*scripts+incrers*incrs)
	}
}

// TestDataCommandsWaitForScripts checks that every command that reads or
// writes the keyspace takes the script gate, and that the others do not.
func TestDataCommandsWaitForScripts(t *testing.T) {
	n := startNode(t, Config{})
	sc := scriptingOf(n.srv)
	for id := range numCommands {
		cmd := &n.srv.table[id]
		if strings.HasPrefix(cmd.name, "grid.") || id == cmdQuit {
			continue
		}
		args := [][]byte{[]byte(cmd.name)}
		for len(args) < max(cmd.arity, -cmd.arity) {
			args = append(args, []byte("0"))
		}
		data := cmd.flags&(flagWrite|flagReadonly) != 0
		c := newConn(n.srv, &memConn{in: bytes.NewReader(nil)}, int64(1000+id))
		sc.gate.lockAll()
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.exec(args)
		}()
		var ran bool
		select {
		case <-done:
			ran = true
		case <-time.After(50 * time.Millisecond):
		}
		sc.gate.unlockAll()
		<-done
		c.endPubsub() // SUBSCRIBE started the connection's writer; serve would stop it
		switch {
		case data && ran:
			t.Errorf("%s ran while a script held the gate", cmd.name)
		case !data && !ran && !strings.HasPrefix(cmd.name, "eval"):
			t.Errorf("%s waited for the script gate; only data commands should", cmd.name)
		}
	}
}

// clusterBackend fakes a grid member: keys map to partitions as in the grid.
type clusterBackend struct{ Backend }

func (clusterBackend) ClusterTable(bool) (uint64, []string) {
	return 1, make([]string, partition.DefaultCount)
}

func (clusterBackend) ClusterOwner(key string) (int, string, string) {
	return partition.ID(key, partition.DefaultCount), "self", "127.0.0.1:0"
}

func (clusterBackend) ClusterSafe(context.Context) ClusterSafety { return ClusterSafety{Safe: true} }

func (clusterBackend) ClusterStatus(context.Context) ClusterStatus {
	return ClusterStatus{Self: "self", Partitions: partition.DefaultCount}
}

// keysByPartition returns two keys of one partition and one of another.
func keysByPartition(t *testing.T) (a, sameAsA, other string) {
	a = "user:0"
	pa := partition.ID(a, partition.DefaultCount)
	for i := 1; sameAsA == "" || other == ""; i++ {
		k := "user:" + strconv.Itoa(i)
		if partition.ID(k, partition.DefaultCount) == pa {
			if sameAsA == "" {
				sameAsA = k
			}
		} else if other == "" {
			other = k
		}
	}
	return a, sameAsA, other
}

func TestScriptPartitions(t *testing.T) {
	a, same, other := keysByPartition(t)
	ctx := context.Background()
	t.Run("grid", func(t *testing.T) {
		n := startNodeWith(t, func(b Backend) Backend { return clusterBackend{b} })
		c := n.client(t, 2)
		const crossSlot = "CROSSSLOT Keys in request don't hash to the same slot"
		wantEvalError(t, c, "return 1", []string{a, other}, crossSlot)
		if got, err := c.Eval(ctx, "redis.call('set', KEYS[1], 1) redis.call('set', KEYS[2], 2) return redis.call('mget', KEYS[1], KEYS[2])",
			[]string{a, same}).Result(); err != nil || !reflect.DeepEqual(got, []any{"1", "2"}) {
			t.Fatalf("script on two keys of one partition = %v, %v", got, err)
		}
		// A call on a key of another partition than the script's keys.
		wantEvalError(t, c, "return redis.call('get', ARGV[1])", []string{a}, "CROSSSLOT Script attempted to access key '"+other+"'", other)
		// Without declared keys, the first key used pins the partition.
		wantEvalError(t, c, "redis.call('get', ARGV[1]) return redis.call('get', ARGV[2])", nil, "CROSSSLOT Script attempted", a, other)
		if got, err := c.Eval(ctx, "redis.call('get', ARGV[1]) return redis.call('get', ARGV[2])", nil, a, same).Result(); err != nil || got != "2" {
			t.Fatalf("undeclared keys of one partition = %v, %v", got, err)
		}
		// Commands over every partition are refused; globals are allowed.
		wantEvalError(t, c, "return redis.call('keys', '*')", []string{a}, "CROSSSLOT 'keys' reads or writes every partition")
		if got, err := c.Eval(ctx, "redis.call('global.set', 'g', 'v') return redis.call('global.get', 'g')", []string{a}).Result(); err != nil || got != "v" {
			t.Fatalf("GLOBAL.* from a script = %v, %v", got, err)
		}
		if got, err := c.Ping(ctx).Result(); err != nil || got != "PONG" {
			t.Fatalf("PING after refused scripts = %v, %v", got, err)
		}
	})
	t.Run("standalone", func(t *testing.T) {
		n := startNode(t, Config{})
		c := n.client(t, 2)
		if got, err := c.Eval(ctx, "redis.call('set', KEYS[1], 1) redis.call('set', KEYS[2], 2) return #redis.call('keys', '*')",
			[]string{a, other}).Result(); err != nil || got != int64(2) {
			t.Fatalf("standalone script over two partitions = %v, %v", got, err)
		}
	})
}

// BenchmarkScriptGate measures the data commands' cost of the script gate:
// HGET from many connections at once (compare with BenchmarkExec).
func BenchmarkScriptGate(b *testing.B) {
	n := startNode(b, Config{})
	seed := newConn(n.srv, &memConn{in: bytes.NewReader(nil)}, 1)
	for i := range 1000 {
		seed.exec([][]byte{[]byte("HSET"), []byte("sess:" + strconv.Itoa(i)), []byte("field1"), []byte("value")})
	}
	var id int64
	var mu sync.Mutex
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		id++
		c := newConn(n.srv, &memConn{in: bytes.NewReader(nil)}, id+1)
		mu.Unlock()
		args := [][]byte{[]byte("HGET"), nil, []byte("field1")}
		for i := 0; pb.Next(); i++ {
			args[1] = []byte("sess:" + strconv.Itoa(i%1000))
			c.exec(args)
			c.out.b = c.out.b[:0]
		}
	})
}

// BenchmarkEvalLockRelease measures redis-py's lock release script.
func BenchmarkEvalLockRelease(b *testing.B) {
	n := startNode(b, Config{})
	c := newConn(n.srv, &memConn{in: bytes.NewReader(nil)}, 1)
	release := []byte(`
        local token = redis.call('get', KEYS[1])
        if not token or token ~= ARGV[1] then
            return 0
        end
        redis.call('del', KEYS[1])
        return 1`)
	b.ReportAllocs()
	for b.Loop() {
		c.exec([][]byte{[]byte("SET"), []byte("lock"), []byte("tok"), []byte("NX")})
		c.exec([][]byte{[]byte("EVAL"), release, []byte("1"), []byte("lock"), []byte("tok")})
		if !bytes.HasSuffix(c.out.b, []byte(":1\r\n")) {
			b.Fatalf("release replied %q", c.out.b)
		}
		c.out.b = c.out.b[:0]
	}
}

// BenchmarkGateOverhead measures what the script gate adds to one data
// command: the same empty command called directly and through gated, from
// one goroutine and from all at once (one connection each).
func BenchmarkGateOverhead(b *testing.B) {
	n := startNode(b, Config{})
	noop := func(*conn, [][]byte) {}
	for _, bc := range []struct {
		name string
		fn   func(*conn, [][]byte)
	}{{"direct", noop}, {"gated", gated(noop)}} {
		b.Run(bc.name, func(b *testing.B) {
			c := newConn(n.srv, &memConn{in: bytes.NewReader(nil)}, 1)
			for b.Loop() {
				bc.fn(c, nil)
			}
		})
		b.Run(bc.name+"-parallel", func(b *testing.B) {
			var mu sync.Mutex
			var id int64
			b.RunParallel(func(pb *testing.PB) {
				mu.Lock()
				id++
				c := newConn(n.srv, &memConn{in: bytes.NewReader(nil)}, id)
				mu.Unlock()
				for pb.Next() {
					bc.fn(c, nil)
				}
			})
		})
	}
}
