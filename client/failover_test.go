package client

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/gridserver/gridtest"

	"github.com/redis/go-redis/v9"
)

// waitGridSafe waits until the grid reports every partition with its full
// backup count, in sync.
func waitGridSafe(t *testing.T, g *gridtest.Grid) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := g.Nodes[0].Member.Node.Safe(context.Background())
		if st.Safe {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("grid not safe: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// twoWrites is a script that writes two fields of one session.
const twoWrites = "redis.call('HSET', KEYS[1], 'a', ARGV[1]); redis.call('HSET', KEYS[1], 'b', ARGV[1]); return 1"

// TestPipelineAndScriptSurviveOwnerCrash sends pipelined HSETs and
// two-write scripts to a member that does not own their keys, then crashes
// the owner: every OK is readable afterwards, and no script is seen half
// applied.
func TestPipelineAndScriptSurviveOwnerCrash(t *testing.T) {
	g := startGrid(t)
	waitGridSafe(t, g)
	ctx := context.Background()
	leader := g.Nodes[0].Member.Globals.Status(ctx).Leader
	owner, via := -1, -1
	for i, n := range g.Nodes {
		switch {
		case owner < 0 && n.Member.Cluster.Name() != leader:
			owner = i
		case via < 0:
			via = i
		}
	}
	if owner < 0 || via < 0 {
		t.Fatalf("no owner/via pair (leader %s)", leader)
	}
	o := g.Nodes[owner].Member.Node
	var keys []string
	for i := 0; len(keys) < 40; i++ {
		if k := fmt.Sprint("pipe:", i); o.Owner(k) == o.Name() {
			keys = append(keys, k)
		}
	}
	script := ""
	for i := 0; script == ""; i++ {
		if k := fmt.Sprint("script:", i); o.Owner(k) == o.Name() {
			script = k
		}
	}
	rdb := redis.NewClient(&redis.Options{Addr: g.Nodes[via].Addr, MaxRetries: -1})
	defer rdb.Close()

	pipe := rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.HSet(ctx, k, "v", k)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	last := 0
	for i := 1; i <= 20; i++ {
		if err := rdb.Eval(ctx, twoWrites, []string{script}, i).Err(); err != nil {
			t.Fatalf("EVAL %d: %v", i, err)
		}
		last = i
	}

	g.Crash(owner) // no hand-over

	for _, k := range keys {
		v, err := rdb.HGet(ctx, k, "v").Result()
		if err != nil || v != k {
			t.Fatalf("%s after the owner's crash: %q, %v", k, v, err)
		}
	}
	got, err := rdb.HMGet(ctx, script, "a", "b").Result()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := strconv.Atoi(fmt.Sprint(got[0]))
	b, _ := strconv.Atoi(fmt.Sprint(got[1]))
	if a != b || a < last {
		t.Fatalf("script state after the crash: a=%v b=%v, last acknowledged %d", got[0], got[1], last)
	}
}
