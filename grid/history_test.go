package grid_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/sessiongrid/sessiongrid/internal/register"
	"github.com/sessiongrid/sessiongrid/session"
)

// checkLinearizable runs clients issuing HSET/HGET/DEL on a few sessions
// through random live members while fault runs, and checks the history
// with porcupine: failed writes have an unknown outcome (open-ended),
// failed reads are dropped, and a checker that cannot decide fails.
func checkLinearizable(t *testing.T, g *testGrid, fault func()) {
	t.Helper()
	keys := []string{"reg-a", "reg-b", "reg-c", "reg-d"}
	start := time.Now()
	now := func() int64 { return time.Since(start).Nanoseconds() }
	var (
		mu      sync.Mutex
		history []porcupine.Operation
		wg      sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	for c := 0; c < 6; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			for i := 0; ctx.Err() == nil; i++ {
				live := g.live()
				if len(live) == 0 {
					return
				}
				r := live[rng.IntN(len(live))].node.Router(nil)
				in := register.Input{Key: keys[rng.IntN(len(keys))]}
				switch x := rng.IntN(10); {
				case x < 4:
					in.Op, in.Value = register.Write, fmt.Sprintf("c%d-%d", c, i)
				case x < 5:
					in.Op = register.Delete
				default:
					in.Op = register.Read
				}
				call := now()
				octx, ocancel := context.WithTimeout(context.Background(), 10*time.Second)
				var out register.Output
				var err error
				switch in.Op {
				case register.Write:
					_, err = r.Save(octx, in.Key, field("f", in.Value))
				case register.Delete:
					_, err = r.Delete(octx, in.Key)
				default:
					var v []byte
					v, err = r.Get(octx, in.Key, "f")
					if errors.Is(err, session.ErrNotFound) {
						err = nil
					} else if err == nil {
						out = register.Output{Found: true, Value: string(v)}
					}
				}
				ocancel()
				ret := now()
				if err != nil {
					if !errors.Is(err, session.ErrUnavailable) && !errors.Is(err, session.ErrClosed) {
						t.Errorf("%v %s: %v", in.Op, in.Key, err)
						return
					}
					if in.Op == register.Read {
						continue // a failed read has no effect
					}
					out.Unknown, ret = true, math.MaxInt64
				}
				mu.Lock()
				history = append(history, porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret})
				mu.Unlock()
			}
		}()
	}
	// A history before the fault, during it, and after it.
	waitOps := func(n int) {
		deadline := time.Now().Add(60 * time.Second)
		for {
			mu.Lock()
			got := len(history)
			mu.Unlock()
			if got >= n || time.Now().After(deadline) {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitOps(500)
	fault()
	mu.Lock()
	after := len(history) + 500
	mu.Unlock()
	waitOps(after)
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	res, info := porcupine.CheckOperationsVerbose(register.Model, history, 60*time.Second)
	switch res {
	case porcupine.Ok:
		t.Logf("%d operations, linearizable", len(history))
	case porcupine.Illegal:
		path := t.TempDir() + "/history.html"
		porcupine.VisualizePath(register.Model, info, path)
		t.Fatalf("history of %d operations is not linearizable (see %s)", len(history), path)
	default:
		t.Fatalf("the checker could not decide on %d operations", len(history))
	}
}

// TestLinearizableThroughCrash: a member crashes while clients work
// through every member.
func TestLinearizableThroughCrash(t *testing.T) {
	g := newTestGrid(t, 3)
	g.waitSafe()
	checkLinearizable(t, g, func() {
		g.stop(g.live()[2], false)
		g.waitStable()
	})
}

// TestLinearizableThroughPause: a member is cut off from the others (as a
// paused process is) for longer than failure detection plus its lease,
// then comes back, while clients work through every member — including the
// cut one.
func TestLinearizableThroughPause(t *testing.T) {
	g := newTestGrid(t, 3)
	g.waitSafe()
	checkLinearizable(t, g, func() {
		victim := g.live()[2]
		g.cut(victim)
		g.log.Hold(victim.name) // a paused member learns of no new table
		defer g.log.Release(victim.name)
		g.waitTakenOver(victim, g.live()[0]) // the others take its partitions over
		g.heal()
		g.log.Release(victim.name)
		g.waitStable()
	})
}
