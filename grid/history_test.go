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

	"github.com/sessiongrid/sessiongrid/session"
)

// regInput and regOutput are one operation on one session's field.
type regInput struct {
	op    byte // 'w' HSET, 'd' DEL, 'r' HGET
	key   string
	value string
}

type regOutput struct {
	found   bool
	value   string
	unknown bool // a write whose outcome is unknown (error)
}

// sessionModel is a linearizable register per session: HSET sets it, DEL
// removes it, HGET reads it.
var sessionModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(regInput).key
			byKey[k] = append(byKey[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(byKey))
		for _, ops := range byKey {
			out = append(out, ops)
		}
		return out
	},
	Init: func() any { return regOutput{} },
	Step: func(state, input, output any) (bool, any) {
		st, in, out := state.(regOutput), input.(regInput), output.(regOutput)
		switch in.op {
		case 'w':
			return true, regOutput{found: true, value: in.value}
		case 'd':
			return true, regOutput{}
		}
		return out.found == st.found && out.value == st.value, state
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(regInput), output.(regOutput)
		switch {
		case in.op == 'w' && out.unknown:
			return fmt.Sprintf("hset(%s, %s) -> ?", in.key, in.value)
		case in.op == 'w':
			return fmt.Sprintf("hset(%s, %s)", in.key, in.value)
		case in.op == 'd' && out.unknown:
			return fmt.Sprintf("del(%s) -> ?", in.key)
		case in.op == 'd':
			return fmt.Sprintf("del(%s)", in.key)
		case !out.found:
			return fmt.Sprintf("hget(%s) -> nil", in.key)
		}
		return fmt.Sprintf("hget(%s) -> %s", in.key, out.value)
	},
}

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
				in := regInput{key: keys[rng.IntN(len(keys))]}
				switch x := rng.IntN(10); {
				case x < 4:
					in.op, in.value = 'w', fmt.Sprintf("c%d-%d", c, i)
				case x < 5:
					in.op = 'd'
				default:
					in.op = 'r'
				}
				call := now()
				octx, ocancel := context.WithTimeout(context.Background(), 10*time.Second)
				var out regOutput
				var err error
				switch in.op {
				case 'w':
					_, err = r.Save(octx, in.key, field("f", in.value))
				case 'd':
					_, err = r.Delete(octx, in.key)
				default:
					var v []byte
					v, err = r.Get(octx, in.key, "f")
					if errors.Is(err, session.ErrNotFound) {
						err = nil
					} else if err == nil {
						out = regOutput{found: true, value: string(v)}
					}
				}
				ocancel()
				ret := now()
				if err != nil {
					if !errors.Is(err, session.ErrUnavailable) && !errors.Is(err, session.ErrClosed) {
						t.Errorf("%c %s: %v", in.op, in.key, err)
						return
					}
					if in.op == 'r' {
						continue // a failed read has no effect
					}
					out.unknown, ret = true, math.MaxInt64
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
	res, info := porcupine.CheckOperationsVerbose(sessionModel, history, 60*time.Second)
	switch res {
	case porcupine.Ok:
		t.Logf("%d operations, linearizable", len(history))
	case porcupine.Illegal:
		path := t.TempDir() + "/history.html"
		porcupine.VisualizePath(sessionModel, info, path)
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
		deadline := time.Now().Add(30 * time.Second)
		for { // the others take its partitions over
			held := false
			for _, pa := range g.live()[0].node.Table().Partitions {
				if pa.Primary() == victim.node.Name() {
					held = true
				}
			}
			if !held {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the victim's partitions were never taken over")
			}
			time.Sleep(20 * time.Millisecond)
		}
		g.heal()
		g.log.Release(victim.name)
		g.waitStable()
	})
}
