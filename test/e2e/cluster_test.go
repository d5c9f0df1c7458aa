package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestReferenceCluster starts the reference cluster and checks, through
// real RESP clients: sessions written on one node are read on every node;
// a global written anywhere is read everywhere; a node stopped with
// SIGTERM hands its partitions over first, so no session is lost; it
// rejoins when started again; globals survive a restart of every node.
func TestReferenceCluster(t *testing.T) {
	c := startCluster(t, 3)
	nodes := c.services
	ctx := context.Background()
	n1, n2, n3 := c.client(nodes[0]), c.client(nodes[1]), c.client(nodes[2])

	const sessions = 500
	for i := 0; i < sessions; i++ {
		id := fmt.Sprintf("26377%07d", i)
		if err := n1.HSet(ctx, id, "stage", "MENU", "n", i).Err(); err != nil {
			t.Fatalf("HSET %s via gridnode-1: %v", id, err)
		}
	}
	readAll := func(name string) {
		t.Helper()
		r := c.client(name)
		for i := 0; i < sessions; i++ {
			id := fmt.Sprintf("26377%07d", i)
			v, err := r.HGet(ctx, id, "n").Int()
			if err != nil || v != i {
				t.Fatalf("HGET %s via %s = %d, %v", id, name, v, err)
			}
		}
	}
	readAll("gridnode-3")
	if err := n2.Do(ctx, "GLOBAL.SET", "campaign", `"black-friday"`).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := n3.Do(ctx, "GLOBAL.GET", "campaign").Text(); err != nil || v != `"black-friday"` {
		t.Fatalf("GLOBAL.GET via gridnode-3 = %q, %v", v, err)
	}

	// Graceful stop: SIGTERM drains gridnode-2's partitions first.
	run(t, c.root, "docker", "stop", "--time", "60", c.container("gridnode-2"))
	readAll("gridnode-1")
	readAll("gridnode-3")

	// It rejoins when started again (with a new member id) and serves.
	if err := startMember(context.Background(), c, "gridnode-2"); err != nil {
		t.Fatal(err)
	}
	readAll("gridnode-2")

	// Globals (and the partition table) live in Raft on each node's disk:
	// they survive every node dying at once.
	for _, n := range nodes {
		run(t, c.root, "docker", "kill", c.container(n))
	}
	c.compose("start")
	for _, n := range nodes {
		if _, err := c.refreshIP(n); err != nil {
			t.Fatal(err)
		}
	}
	c.waitReady(nodes...)
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, err := c.client("gridnode-1").Do(ctx, "GLOBAL.GET", "campaign").Text()
		if err == nil && v == `"black-friday"` {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("global after a full restart: %q, %v", v, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
