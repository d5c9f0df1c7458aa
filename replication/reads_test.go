package replication

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/sessiongrid/sessiongrid/internal/testpoll"
	"github.com/sessiongrid/sessiongrid/session"
)

// A leader cut off from its followers while it serves a linearizable read
// must not answer from its state machine: a majority may meanwhile have
// elected another leader and committed a newer value. The read is held (a
// hook) after the term's barrier, at the moment the leader still believes it
// leads, until the majority has committed "new"; the answer must then be
// ErrUnavailable, never "old". The test fails if the leader check
// (VerifyLeader) before a leader's local read is dropped.
// newFixedGrid starts a 3-voter grid whose configuration stays fixed (no
// dead server is removed) and returns it, a 60 s context and the leader.
func newFixedGrid(t *testing.T) (*testGrid, context.Context, int) {
	t.Helper()
	tg := newGrid(t, 3, 3, false, func(_ int, c *GlobalsConfig) {
		c.DeadServerTimeout = time.Hour
	})
	ctx := ctxT(t, 60*time.Second)
	tg.waitVoters(ctx, 3)
	return tg, ctx, tg.waitLeader()
}

func TestIsolatedLeaderReadIsUnavailable(t *testing.T) {
	tg, ctx, old := newFixedGrid(t)
	lg := tg.nodes[old].g
	if err := lg.Save(ctx, "k", []byte("old")); err != nil {
		t.Fatal(err)
	}
	// Make the barrier of this term pass before the hook is armed.
	if v, err := lg.Get(ctx, "k"); err != nil || string(v) != "old" {
		t.Fatalf("Get before the cut = %q, %v", v, err)
	}

	var once sync.Once
	hooked := false
	lg.localReadHook = func() {
		once.Do(func() {
			hooked = true
			tg.net.isolate(3, old)
			t.Logf("cut leader %s from its followers in the middle of a read", tg.nodes[old].name)
			var newLeader *Globals
			testpoll.Until(t, 20*time.Second, "a leader among the majority", func() bool {
				for i, gn := range tg.nodes {
					if i != old && gn.g.IsLeader() {
						newLeader = gn.g
						return true
					}
				}
				return false
			})
			if err := newLeader.Save(ctx, "k", []byte("new")); err != nil {
				t.Fatalf("majority write: %v", err)
			}
		})
	}
	v, err := lg.Get(ctx, "k")
	if !hooked {
		t.Fatal("the read never reached the leader's local path")
	}
	if !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("read on the cut-off leader after the majority wrote \"new\" = %q, %v; want ErrUnavailable", v, err)
	}
	tg.net.heal()
}

// A new leader may not yet have applied entries the previous leader
// committed: its state machine lags its log. Here the follower that takes
// over has its state machine held (a hook) before it applies "k"; it is
// made leader by a leadership transfer, and a linearizable read on it must
// wait for the term's barrier and return the committed value, never
// ErrNotFound. The hold is released only once the new leader has appended
// an entry after its election no-op (the barrier), so the test fails if the
// per-term read barrier (ensureReadable) is skipped.
func TestReadAfterElectionSeesPreviousTerm(t *testing.T) {
	tg, ctx, old := newFixedGrid(t)
	next := (old + 1) % 3
	lg, ng := tg.nodes[old].g, tg.nodes[next].g

	release := make(chan struct{})
	var releaseOnce sync.Once
	unhold := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(unhold) // before the grid closes (cleanups run last-in first-out)
	held := make(chan struct{}, 1)
	hook := func(key string) {
		if key != "k" {
			return
		}
		select {
		case held <- struct{}{}:
		default:
		}
		<-release
	}
	ng.fsm.applyHook.Store(&hook)

	if err := lg.Save(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	kIndex := lg.raft.LastIndex()
	if err := lg.raft.LeadershipTransferToServer(raft.ServerID(tg.nodes[next].name), raft.ServerAddress(tg.nodes[next].raftAddr)).Error(); err != nil {
		t.Fatalf("leadership transfer to %s: %v", tg.nodes[next].name, err)
	}
	testpoll.Until(t, 10*time.Second, tg.nodes[next].name+" leads", ng.IsLeader)
	select {
	case <-held:
	case <-ctx.Done():
		t.Fatal("the new leader never started applying k")
	}
	if v, ok := ng.fsm.get("k"); ok {
		t.Fatalf("k = %q applied on the new leader despite the hold", v)
	}

	type result struct {
		v   []byte
		err error
	}
	res := make(chan result, 1)
	go func() {
		v, err := ng.Get(ctx, "k")
		res <- result{v, err}
	}()
	// Release the state machine once the new leader has appended an entry
	// after its no-op (kIndex+1): the barrier. Without a barrier nothing is
	// appended, and the read answers while k is still held.
	var r result
	testpoll.Until(t, 20*time.Second, "the read's answer or the new leader's barrier", func() bool {
		select {
		case r = <-res:
			return true
		default:
		}
		if ng.raft.LastIndex() >= kIndex+2 {
			unhold()
			r = <-res
			return true
		}
		return false
	})
	unhold()
	if r.err != nil || string(r.v) != "v" {
		t.Fatalf("read on the new leader = %q, %v; want the value committed in the previous term", r.v, r.err)
	}
}
