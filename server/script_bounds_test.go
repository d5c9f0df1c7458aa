package server

import (
	"context"
	"runtime"
	rtmetrics "runtime/metrics"
	"slices"
	"strings"
	"testing"
	"time"
)

// memoryKilled is the reply of a script the memory watchdog stopped (it
// may see the heap grow before a function refuses to build a result).
const memoryKilled = "ERR Script killed: its memory grew over the limit"

// timedOut is the reply of a script stopped by the time limit (a slow
// machine may reach it before a memory bound; TestScriptMemoryBoundAndReleased
// checks the memory bounds with a long time limit).
const timedOut = "ERR Script killed: it ran longer than the time limit"

// scriptBoundCases are scripts that would hold a node for minutes or grow
// its memory by gigabytes without the bounds.
var scriptBoundCases = []struct {
	name, script string
	want         string // prefix of the error reply; alternatives separated by |
}{
	{"pattern backtracking find",
		"return tostring(string.find(string.rep('a', 200000), string.rep('a*', 4)..'b'))",
		"ERR Script killed: it ran longer than the time limit"},
	{"pattern backtracking match",
		"return tostring(string.match(string.rep('a', 200000), string.rep('a*', 4)..'b'))",
		"ERR Script killed: it ran longer than the time limit"},
	{"pattern backtracking gsub",
		"return tostring(string.gsub(string.rep('a', 200000), string.rep('a*', 4)..'b', 'x'))",
		"ERR Script killed: it ran longer than the time limit"},
	{"pattern backtracking gmatch",
		"for m in string.gmatch(string.rep('a', 200000), string.rep('a*', 4)..'b') do end",
		"ERR Script killed: it ran longer than the time limit"},
	{"recursion",
		"local function f(n) return f(n + 1) + 1 end return f(1)",
		"ERR lua callstack overflow"},
	{"deep pcall recursion",
		"local function f(n) local ok, v = pcall(f, n + 1) return n end return f(1)",
		""},
	{"concat of huge strings",
		"local t = {} local s = string.rep('x', 8 * 1024 * 1024) for i = 1, 60 do t[i] = s end return #table.concat(t)",
		"ERR user_script:1: table.concat: the result would be over the script memory limit|" + memoryKilled + "|" + timedOut},
	{"string growth by ..",
		"local s = string.rep('x', 1024 * 1024) while true do s = s .. s end",
		"ERR user_script:1: string concatenation: the result would be over the script memory limit|" + memoryKilled + "|" + timedOut},
}

// Every script bound holds, and another client's HGET is answered within
// the time limit plus a margin while a bounded script runs.
func TestScriptBounds(t *testing.T) {
	n := startNode(t, Config{})
	const limit = 500 * time.Millisecond
	const margin = 1500 * time.Millisecond // -race, 2 shared cores
	scriptingOf(n.srv).setLimits(limit, 32<<20)
	ctx := context.Background()
	c, other := n.client(t, 2), n.client(t, 2)
	if err := other.HSet(ctx, "h", "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range scriptBoundCases {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			start := time.Now()
			go func() { done <- c.Eval(ctx, tc.script, nil).Err() }()
			hget := make(chan time.Duration, 1)
			go func() {
				if err := other.HGet(ctx, "h", "f").Err(); err != nil {
					t.Errorf("HGET: %v", err)
				}
				hget <- time.Since(start)
			}()
			err := <-done
			took := time.Since(start)
			if d := <-hget; d > limit+margin {
				t.Errorf("HGET of another client answered after %v", d)
			}
			if took > limit+margin {
				t.Errorf("the script held the node for %v (limit %v)", took, limit)
			}
			if tc.want != "" && (err == nil || !slices.ContainsFunc(strings.Split(tc.want, "|"),
				func(w string) bool { return strings.HasPrefix(err.Error(), w) })) {
				t.Errorf("err = %v, want %q...", err, tc.want)
			}
		})
	}
}

// A backtracking pattern is stopped by SCRIPT KILL, not only by the limit.
func TestScriptKillStopsPatternMatch(t *testing.T) {
	n := startNode(t, Config{})
	scriptingOf(n.srv).setLimits(time.Minute, DefaultScriptMaxMemory)
	ctx := context.Background()
	c, other := n.client(t, 2), n.client(t, 2)
	done := make(chan error, 1)
	go func() {
		done <- c.Eval(ctx, "return string.find(string.rep('a', 200000), string.rep('a*', 4)..'b')", nil).Err()
	}()
	waitFor(t, "the script to run", func() bool { return scriptRunning(n.srv) })
	start := time.Now()
	if err := other.Do(ctx, "SCRIPT", "KILL").Err(); err != nil {
		t.Fatalf("SCRIPT KILL: %v", err)
	}
	if err := <-done; err == nil || !strings.HasPrefix(err.Error(), "ERR Script killed by user with SCRIPT KILL") {
		t.Fatalf("killed script: err = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the script ended %v after SCRIPT KILL", d)
	}
	if err := other.HGet(ctx, "h", "f").Err(); err != nil && err.Error() != "redis: nil" {
		t.Fatalf("HGET after the kill: %v", err)
	}
}

// Shutdown (gridnode's SIGTERM) stops a running script at once instead of
// waiting for its time limit.
func TestShutdownStopsScript(t *testing.T) {
	n := startNode(t, Config{})
	scriptingOf(n.srv).setLimits(time.Minute, DefaultScriptMaxMemory)
	c := n.client(t, 2)
	done := make(chan error, 1)
	go func() {
		done <- c.Eval(context.Background(), "return string.find(string.rep('a', 200000), string.rep('a*', 4)..'b')", nil).Err()
	}()
	waitFor(t, "the script to run", func() bool { return scriptRunning(n.srv) })
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Shutdown took %v with a script running", d)
	}
	if err := <-done; err == nil {
		t.Fatal("the script's caller got no error")
	}
}

// heapBytes is the live heap after a collection.
func heapBytes() int64 {
	runtime.GC()
	s := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	rtmetrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// The memory limit stops a script that keeps many strings alive, and the
// memory of a script, stopped or not, is free once it ended.
func TestScriptMemoryBoundAndReleased(t *testing.T) {
	n := startNode(t, Config{})
	const limit = 32 << 20
	scriptingOf(n.srv).setLimits(time.Minute, limit)
	ctx := context.Background()
	c := n.client(t, 2)
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	base := heapBytes()
	// Completes: about 12 MiB live at its end.
	if got, err := c.Eval(ctx, "local t = {} for i = 1, 100000 do t[i] = string.rep('x', 100) .. i end return #t", nil).Int(); err != nil || got != 100000 {
		t.Fatalf("small script: %v, %v", got, err)
	}
	if h := heapBytes(); h > base+16<<20 {
		t.Errorf("heap %d MiB after a script ended, %d MiB before", h>>20, base>>20)
	}
	// Grows without end: stopped by the memory limit.
	err := c.Eval(ctx, "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end", nil).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "ERR Script killed: its memory grew over the limit") {
		t.Fatalf("growing script: err = %v", err)
	}
	if h := heapBytes(); h > base+16<<20 {
		t.Errorf("heap %d MiB after a script was stopped, %d MiB before", h>>20, base>>20)
	}
	// One string over the limit, built by .. or table.concat: refused.
	for _, script := range []string{
		"local s = string.rep('x', 1024 * 1024) while true do s = s .. s end",
		"local t = {} local s = string.rep('x', 8 * 1024 * 1024) for i = 1, 60 do t[i] = s end return #table.concat(t)",
	} {
		err := c.Eval(ctx, script, nil).Err()
		if err == nil || !strings.Contains(err.Error(), "would be over the script memory limit") &&
			!strings.HasPrefix(err.Error(), memoryKilled) {
			t.Errorf("%s: err = %v", script, err)
		}
	}
}
