package server

import (
	"context"
	"strings"
	"testing"
	"time"
)

// scriptBoundCases are scripts that would hold a node for minutes or grow
// its memory by gigabytes without the bounds.
var scriptBoundCases = []struct {
	name, script string
	want         string // prefix of the error reply
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
		"ERR"},
	{"deep pcall recursion",
		"local function f(n) local ok, v = pcall(f, n + 1) return n end return f(1)",
		""},
	{"concat of huge strings",
		"local t = {} local s = string.rep('x', 8 * 1024 * 1024) for i = 1, 60 do t[i] = s end return #table.concat(t)",
		"ERR"},
	{"string growth by ..",
		"local s = string.rep('x', 1024 * 1024) while true do s = s .. s end",
		"ERR"},
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
			t.Logf("%s: %v after %v", tc.name, err, took)
			if tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)) {
				t.Errorf("err = %v, want %q...", err, tc.want)
			}
		})
	}
}
