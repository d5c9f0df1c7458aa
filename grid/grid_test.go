package grid_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/grid"
	"github.com/sessiongrid/sessiongrid/session"
)

func field(k, v string) session.Field { return session.Field{Key: k, Value: []byte(v)} }

// writeSessions writes n sessions through members chosen in turn.
func writeSessions(t *testing.T, g *testGrid, n int, tag string) {
	t.Helper()
	ctx := context.Background()
	live := g.live()
	for i := 0; i < n; i++ {
		r := live[i%len(live)].node.Router(nil)
		id := fmt.Sprintf("2637%06d", i)
		retryUnavailable(t, "save "+id, func() error {
			_, err := r.Save(ctx, id, field("stage", tag+id), field("n", fmt.Sprint(i)))
			return err
		})
		retryUnavailable(t, "prop "+id, func() error { return r.SaveProp(ctx, id, "name", []byte("p"+id)) })
	}
}

// retryUnavailable runs write, an idempotent write of a test's setup, again
// while its outcome is unknown (ErrUnavailable: a call that timed out on a
// loaded machine), for up to 30 s; any other error fails the test.
func retryUnavailable(t *testing.T, what string, write func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := write()
		if err == nil {
			return
		}
		if !errors.Is(err, session.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(10 * time.Millisecond) // back off before writing again
	}
}

// checkSessions reads every session through every live member.
func checkSessions(t *testing.T, g *testGrid, n int, tag string) {
	t.Helper()
	ctx := context.Background()
	for _, m := range g.live() {
		r := m.node.Router(nil)
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("2637%06d", i)
			v, err := r.Get(ctx, id, "stage")
			if err != nil || string(v) != tag+id {
				t.Fatalf("via %s: %s stage = %q, %v (owner %s)", m.name, id, v, err, m.node.Owner(id))
			}
			if p, err := r.GetProp(ctx, id, "name"); err != nil || string(p) != "p"+id {
				t.Fatalf("via %s: %s prop = %q, %v", m.name, id, p, err)
			}
		}
	}
}

func TestEveryMemberReadsEverySession(t *testing.T) {
	g := newTestGrid(t, 3)
	writeSessions(t, g, 300, "a")
	checkSessions(t, g, 300, "a")
	// Every member owns some partitions.
	owners := map[string]int{}
	for _, a := range g.live()[0].node.Table().Partitions {
		owners[a.Primary()]++
	}
	if len(owners) != 3 {
		t.Fatalf("owners: %v", owners)
	}
	// Strings, keyspace and errors cross the wire too.
	ctx := context.Background()
	r1, r2 := g.live()[0].node.Router(nil), g.live()[1].node.Router(nil)
	res, err := r1.SetString(ctx, "lock:u1", []byte("tok"), session.SetOptions{Cond: session.SetIfNotExists, TTL: time.Minute})
	if err != nil || !res.Applied {
		t.Fatalf("SET NX: %+v %v", res, err)
	}
	if res, _ := r2.SetString(ctx, "lock:u1", []byte("tok2"), session.SetOptions{Cond: session.SetIfNotExists}); res.Applied {
		t.Fatal("second NX applied")
	}
	if _, err := r2.Get(ctx, "lock:u1", "x"); !errors.Is(err, session.ErrWrongType) {
		t.Fatalf("wrong type across the wire: %v", err)
	}
	if _, err := r2.Get(ctx, "nobody", "x"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("not found across the wire: %v", err)
	}
	if ok, _ := r2.DeleteIf(ctx, "lock:u1", true, []byte("tok")); !ok {
		t.Fatal("DELEX IFEQ failed")
	}
	n, err := r2.Len(ctx)
	if err != nil || n != 300 {
		t.Fatalf("Len = %d, %v", n, err)
	}
	seen := 0
	var cursor uint64
	for {
		next, keys, err := r1.Scan(ctx, cursor, "2637*", 50)
		if err != nil {
			t.Fatal(err)
		}
		seen += len(keys)
		if next == 0 {
			break
		}
		cursor = next
	}
	if seen != 300 {
		t.Fatalf("scan saw %d keys", seen)
	}
}

// TestJoinAndLeaveLoseNothing writes continuously while a member joins and
// another leaves gracefully: every acknowledged write is readable after.
func TestJoinAndLeaveLoseNothing(t *testing.T) {
	g := newTestGrid(t, 3)
	writeSessions(t, g, 3000, "a") // enough data that migrations take a while

	ctx, cancel := context.WithCancel(context.Background())
	var acked sync.Map // id -> last acknowledged counter
	var wg sync.WaitGroup
	var failures atomic.Int64
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 9))
			for c := 1; ctx.Err() == nil; c++ {
				live := g.live()
				if len(live) == 0 {
					return
				}
				id := fmt.Sprintf("w%d-%d", w, c) // each write a new session: a lost one shows
				router := live[r.IntN(len(live))].node.Router(nil)
				if _, err := router.Save(context.Background(), id, field("c", fmt.Sprint(c))); err != nil {
					// Only an unknown outcome (ErrUnavailable) or a stopped
					// member (ErrClosed) may fail a write; anything else (a
					// redirect answered as success, a wrong owner) is a bug.
					if !errors.Is(err, session.ErrUnavailable) && !errors.Is(err, session.ErrClosed) {
						t.Errorf("write %s: %v", id, err)
						return
					}
					failures.Add(1)
					continue
				}
				acked.Store(id, c)
			}
		}(w)
	}

	joined := g.add(cluster.RoleServer)
	g.waitStable()
	if joined.node.Held() == 0 {
		for _, m := range g.live() {
			t.Logf("%s: epoch %d held %d members %v", m.name, m.node.Table().Epoch, m.node.Held(), m.cl.Members())
		}
		t.Fatal("the new member owns nothing")
	}
	leaver := g.live()[1]
	g.stop(leaver, true)
	g.waitStable()
	cancel()
	wg.Wait()

	checkSessions(t, g, 3000, "a")
	router := g.live()[0].node.Router(nil)
	count := 0
	acked.Range(func(k, v any) bool {
		got, err := router.Get(context.Background(), k.(string), "c")
		// a later unacknowledged write may have landed: never older than the ack
		var c int
		fmt.Sscan(string(got), &c)
		if err != nil || c < v.(int) {
			t.Errorf("%s = %q (%v), acknowledged %d", k, got, err, v)
		}
		count++
		return true
	})
	if count == 0 {
		t.Fatal("no write was acknowledged")
	}
	t.Logf("%d sessions written during the join and the leave; %d writes failed (reported, not lost)", count, failures.Load())
}

// TestCrashedMemberIsReplaced kills a member without a drain: once it is
// declared dead (and its lease has run out) its partitions are led by their
// backups, so every session keeps its data and can be written again, and
// the partitions get their full backup count back.
func TestCrashedMemberIsReplaced(t *testing.T) {
	g := newTestGrid(t, 3)
	writeSessions(t, g, 300, "a")
	victim := g.live()[2]
	owned := 0
	for i := 0; i < 300; i++ {
		if id := fmt.Sprintf("2637%06d", i); victim.node.Owner(id) == victim.node.Name() {
			owned++
		}
	}
	if owned == 0 || owned == 300 {
		t.Fatalf("%d of 300 sessions were on the victim", owned)
	}
	g.stop(victim, false)
	g.waitStable()
	checkSessions(t, g, 300, "a")
	ctx := context.Background()
	r := g.live()[0].node.Router(nil)
	for i := 0; i < 300; i++ {
		if _, err := r.Save(ctx, fmt.Sprintf("2637%06d", i), field("stage", "b")); err != nil {
			t.Fatalf("write after the crash: %v", err)
		}
	}
	g.waitSafe()
}

// TestNoTableYet: before the first table a member answers every call with
// session.ErrUnavailable (after RouteTimeout), never a panic.
func TestNoTableYet(t *testing.T) {
	g := &testGrid{t: t, log: grid.NewMemLog("nobody"), globals: &memGlobals{m: map[string][]byte{}}}
	now := time.Now
	g.now.Store(&now)
	t.Cleanup(g.closeAll)
	m := g.add(cluster.RoleServer)
	r := m.node.Router(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := r.Get(ctx, "u1", "k"); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Get without a table: %v", err)
	}
	if _, err := r.Save(ctx, "u1", field("k", "v")); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Save without a table: %v", err)
	}
}
