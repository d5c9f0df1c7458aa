package grid_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/grid"
	"github.com/sessiongrid/sessiongrid/internal/testpoll"
	"github.com/sessiongrid/sessiongrid/session"
)

// TestStaleOwnerRedirects sends a member an operation on a partition it
// led in an earlier table but no longer leads, with that table's epoch: the
// answer is a redirect carrying the member's epoch, and nothing is applied.
func TestStaleOwnerRedirects(t *testing.T) {
	g := newTestGrid(t, 3)
	g.waitSafe()
	g.waitStable() // nothing left to plan
	// A partition some member led in an earlier table: the grid's startup
	// moved partitions as members joined, or a switch moves one now. The
	// coordinator plans nothing meanwhile, so that nothing moves back before
	// the stale request arrives.
	var former *member
	var old uint64
	p := -1
	find := func() {
		for _, tb := range g.log.History() {
			for q, a := range tb.Partitions {
				for _, m := range g.live() {
					if a.Primary() == m.node.Name() && m.node.Table().Partitions[q].Primary() != m.node.Name() {
						former, old, p = m, tb.Epoch, q
						return
					}
				}
			}
		}
	}
	coord := g.coordinator()
	grid.PausePlanning(coord.node, true)
	defer grid.PausePlanning(coord.node, false)
	if find(); p < 0 {
		a, b := g.live()[1], g.live()[2]
		q := a.node.Partition(keyLedBy(t, a, b))
		grid.StartSwitch(a.node, q, b.node.Name())
		testpoll.Until(t, 30*time.Second, "b leads the partition", func() bool { return a.node.Table().Partitions[q].Primary() == b.node.Name() })
		if find(); p < 0 {
			t.Fatal("no member lost the lead of a partition")
		}
	}
	now := former.node.Table()
	id := ""
	for i := 0; id == ""; i++ {
		if k := fmt.Sprint("k", i); former.node.Partition(k) == p {
			id = k
		}
	}
	ctx := context.Background()
	for _, req := range [][]byte{grid.EncodeSave(old, p, id, "c", "stale"), grid.EncodeGet(old, p, id, "c")} {
		resp, err := g.live()[1].tr.Call(ctx, former.tr.Addr(), grid.MsgOp, req)
		if err != nil {
			t.Fatal(err)
		}
		redirected, epoch, err := grid.DecodeRedirect(resp)
		if err != nil || !redirected || epoch < now.Epoch {
			t.Fatalf("stale request to the former owner: redirect %v epoch %d (old %d, now %d), %v", redirected, epoch, old, now.Epoch, err)
		}
	}
	if v, err := former.node.Router(nil).Get(ctx, id, "c"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the refused write was applied: %q, %v", v, err)
	}
}

// TestSwitchStaysFrozenUntilApplied hands a partition from its primary A to
// its backup B while A's table is held back: A stays frozen until it has
// applied the switch — a read through A does not complete while B already
// leads the partition, and completes once A has the table.
func TestSwitchStaysFrozenUntilApplied(t *testing.T) {
	g := newTestGrid(t, 3)
	g.waitSafe()
	live := g.live()
	a, b := live[1], live[2]
	id := keyLedBy(t, a, b)
	p := a.node.Partition(id)
	ctx := context.Background()
	if _, err := a.node.Router(nil).Save(ctx, id, field("c", "old")); err != nil {
		t.Fatal(err)
	}
	g.log.Hold(a.name)
	released := false
	defer func() {
		if !released {
			g.log.Release(a.name)
		}
	}()
	grid.StartSwitch(a.node, p, b.node.Name())
	testpoll.Until(t, 30*time.Second, "b owns the partition", func() bool { return b.node.Table().Owner(p) == b.node.Name() })
	switched := b.node.Table().Epoch
	type result struct {
		v   string
		err error
	}
	got := make(chan result, 1)
	go func() {
		v, err := a.node.Router(nil).Get(ctx, id, "c")
		got <- result{string(v), err}
	}()
	select {
	case r := <-got:
		if r.err == nil {
			t.Fatalf("the former primary served %q before applying the switch", r.v)
		}
	case <-time.After(200 * time.Millisecond): // still frozen, as it must be
	}
	g.log.Release(a.name)
	released = true
	if r := <-got; r.err != nil && !errors.Is(r.err, session.ErrUnavailable) {
		t.Fatalf("read after the switch was applied: %v", r.err)
	}
	testpoll.Until(t, 30*time.Second, "the switched table", func() bool { return a.node.Table().Epoch >= switched })
}
