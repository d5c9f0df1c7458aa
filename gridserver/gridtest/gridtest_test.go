package gridtest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/gridserver/gridtest"
	"github.com/sessiongrid/sessiongrid/session"
)

// TestHooks checks the harness's own hooks on a real 3-member grid: a
// forwarded command reaches a member, fails while that member is cut off,
// reaches it again after Heal, and a stopped member leaves the table.
func TestHooks(t *testing.T) {
	g := gridtest.Start(t, gridtest.Options{})
	from, to := g.Nodes[0].Member.Node, g.Nodes[2].Member.Node
	key := ""
	for i := 0; key == ""; i++ {
		if k := fmt.Sprint("user-", i); to.Owner(k) == to.Self() {
			key = k
		}
	}
	ping := func() error { // a read the owner answers
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		replies, err := from.ForwardBatch(ctx, to.Self(), 2, [][][]byte{{[]byte("HGET"), []byte(key), []byte("f")}})
		if err == nil && string(replies[0]) != "$-1\r\n" {
			t.Fatalf("forwarded HGET answered %q", replies[0])
		}
		return err
	}
	if err := ping(); err != nil {
		t.Fatalf("forwarded HGET before the cut: %v", err)
	}
	g.Cut(2)
	if err := ping(); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("forwarded HGET to a member cut off: %v, want ErrUnavailable", err)
	}
	g.Heal(2)
	if err := ping(); err != nil {
		t.Fatalf("forwarded HGET after Heal: %v", err)
	}

	g.Stop(t, 1)
	if n := len(g.Addrs()); n != 2 {
		t.Fatalf("%d members up after Stop, want 2", n)
	}
	gone := g.Nodes[1].Member.Node.Self()
	deadline := time.Now().Add(60 * time.Second)
	for {
		held := false
		for _, a := range from.Table().Partitions {
			for _, r := range a.Replicas {
				held = held || r == gone
			}
		}
		if !held {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the stopped member is still in the table after 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
