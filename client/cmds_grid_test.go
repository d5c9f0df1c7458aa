package client

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestMultiKeyCommandsThroughNonOwner: in a 3-member grid, MSET, MSETNX,
// RENAME, COPY and HINCRBY sent to a member that does not own their
// partition run on the owner as one unit, reach its backup (the owner's
// crash loses none of them), and keys of two partitions get CROSSSLOT.
func TestMultiKeyCommandsThroughNonOwner(t *testing.T) {
	g := startGrid(t)
	waitGridSafe(t, g)
	ctx := context.Background()
	addrs := g.Addrs()
	leader := g.Nodes[0].Member.Globals.Status(ctx).Leader
	owner, via := -1, -1
	for i, n := range g.Nodes {
		m := n.Member
		switch {
		case owner < 0 && m.Cluster.Name() != leader:
			owner = i
		case via < 0:
			via = i
		}
	}
	o := g.Nodes[owner].Member.Node
	// Five keys of one partition the owner holds, and one of another.
	var same []string
	p := -1
	other := ""
	for i := 0; len(same) < 5 || other == ""; i++ {
		k := fmt.Sprint("mk:", i)
		switch {
		case o.Owner(k) != o.Name():
		case p < 0:
			p = o.Partition(k)
			same = append(same, k)
		case o.Partition(k) == p && len(same) < 5:
			same = append(same, k)
		case o.Partition(k) != p && other == "":
			other = k
		}
	}
	rdb := redis.NewClient(&redis.Options{Addr: addrs[via], MaxRetries: -1})
	defer rdb.Close()

	const crossSlot = "CROSSSLOT Keys in request don't hash to the same slot"
	for _, cmd := range [][]any{
		{"MSET", same[0], "1", other, "2"}, {"MSETNX", same[0], "1", other, "2"}, {"RENAME", same[0], other},
		{"COPY", same[0], other}, {"MGET", same[0], other}, {"DEL", same[0], other}, {"EXISTS", other, same[1]},
	} {
		if err := rdb.Do(ctx, cmd...).Err(); err == nil || err.Error() != crossSlot {
			t.Errorf("%v: %v, want %s", cmd, err, crossSlot)
		}
	}
	if err := rdb.MSet(ctx, same[0], "a", same[1], "b").Err(); err != nil {
		t.Fatalf("MSET through a non-owner: %v", err)
	}
	if ok, err := rdb.MSetNX(ctx, same[2], "c", same[1], "x").Result(); err != nil || ok {
		t.Fatalf("MSETNX over an existing key: %v, %v", ok, err)
	}
	if err := rdb.Rename(ctx, same[0], same[3]).Err(); err != nil {
		t.Fatalf("RENAME through a non-owner: %v", err)
	}
	if n, err := rdb.Copy(ctx, same[1], same[4], 0, false).Result(); err != nil || n != 1 {
		t.Fatalf("COPY through a non-owner: %v, %v", n, err)
	}
	if n, err := rdb.Wait(ctx, 1, time.Second).Result(); err != nil || n != 1 {
		t.Fatalf("WAIT 1 after the writes: %d, %v (1 synchronous backup)", n, err)
	}
	// HINCRBY from clients of every member at once: no increment lost.
	const per = 50
	hk := same[2]
	concurrently(t, len(addrs), func(i int) error {
		c := redis.NewClient(&redis.Options{Addr: addrs[i], MaxRetries: -1})
		defer c.Close()
		for range per {
			if err := c.HIncrBy(ctx, hk, "n", 1).Err(); err != nil {
				return fmt.Errorf("HINCRBY: %w", err)
			}
		}
		return nil
	})
	// Every member serves the same values.
	for _, addr := range addrs {
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		defer c.Close()
		got, err := c.MGet(ctx, same[0], same[1], same[3], same[4]).Result()
		if err != nil || fmt.Sprint(got) != "[<nil> b a b]" {
			t.Fatalf("MGET via %s: %v, %v", addr, got, err)
		}
		if v := c.HGet(ctx, hk, "n").Val(); v != strconv.Itoa(per*len(addrs)) {
			t.Fatalf("HINCRBY total via %s = %s", addr, v)
		}
	}

	// The owner crashes: its backup, promoted, holds every acknowledged write.
	g.Crash(owner)
	got, err := rdb.MGet(ctx, same[0], same[1], same[3], same[4]).Result()
	if err != nil || fmt.Sprint(got) != "[<nil> b a b]" {
		t.Fatalf("MGET after the owner's crash: %v, %v", got, err)
	}
	if v, err := rdb.HGet(ctx, hk, "n").Result(); err != nil || v != strconv.Itoa(per*len(addrs)) {
		t.Fatalf("HINCRBY total after the owner's crash: %q, %v", v, err)
	}
	if err := rdb.Do(ctx, "MSET", same[0], "1", other, "2").Err(); err == nil || !strings.HasPrefix(err.Error(), "CROSSSLOT") {
		t.Fatalf("CROSSSLOT after the crash: %v", err)
	}
}
