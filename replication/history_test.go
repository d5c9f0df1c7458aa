package replication

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/sessiongrid/sessiongrid/internal/register"
	"github.com/sessiongrid/sessiongrid/internal/testpoll"
	"github.com/sessiongrid/sessiongrid/session"
)

// TestHistoryLinearizableAcrossLeaderKill runs concurrent writers and
// readers of a few globals on every node while the leader is killed, and
// checks the history with porcupine. A write that failed has an unknown
// outcome: it is recorded as pending forever (Return at +inf), so the
// checker may place it anywhere after its call, or nowhere. Failed reads
// are dropped (they have no effect). A checker timeout fails the test.
func TestHistoryLinearizableAcrossLeaderKill(t *testing.T) {
	tg := newGrid(t, 3, 3, false, nil)
	ctx := ctxT(t, 60*time.Second)
	tg.waitVoters(ctx, 3)

	keys := []string{"a", "b", "c"}
	start := time.Now()
	now := func() int64 { return time.Since(start).Nanoseconds() }
	var (
		mu         sync.Mutex // guards history
		history    []porcupine.Operation
		nextID     atomic.Int64
		killed     atomic.Int64 // index of the killed node, -1 before
		stop       = make(chan struct{})
		wg         sync.WaitGroup
		killedAt   atomic.Int64
		okAfter    atomic.Int64 // successful operations after the kill
		unknowns   atomic.Int64
		readFails  atomic.Int64
		notApplied atomic.Int64
	)
	killed.Store(-1)
	killedAt.Store(math.MaxInt64)
	record := func(op porcupine.Operation) {
		mu.Lock()
		history = append(history, op)
		mu.Unlock()
	}
	const clients = 6
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 42))
			client := int(nextID.Add(1)) - 1
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				node := rng.IntN(3)
				if int64(node) == killed.Load() {
					node = (node + 1) % 3
				}
				g := tg.nodes[node].g
				key := keys[rng.IntN(len(keys))]
				opCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
				call := now()
				if rng.IntN(2) == 0 {
					value := fmt.Sprintf("c%d-%d", c, seq)
					err := g.Save(opCtx, key, []byte(value))
					ret := now()
					op := porcupine.Operation{ClientId: client, Input: register.Input{Op: register.Write, Key: key, Value: value}, Call: call, Return: ret}
					if err != nil && notSent(err) {
						// Certainly not applied: no effect, drop it.
						notApplied.Add(1)
					} else if err != nil {
						// Unknown outcome: pending forever; this client
						// continues under a new id.
						op.Output, op.Return = register.Output{Unknown: true}, math.MaxInt64
						client = int(nextID.Add(1)) - 1
						unknowns.Add(1)
					} else {
						op.Output = register.Output{}
						if call > killedAt.Load() {
							okAfter.Add(1)
						}
					}
					if err == nil || !notSent(err) {
						record(op)
					}
				} else {
					v, err := g.Get(opCtx, key)
					ret := now()
					switch {
					case err == nil:
						record(porcupine.Operation{ClientId: client, Input: register.Input{Key: key}, Call: call,
							Output: register.Output{Found: true, Value: string(v)}, Return: ret})
					case errors.Is(err, session.ErrNotFound):
						record(porcupine.Operation{ClientId: client, Input: register.Input{Key: key}, Call: call,
							Output: register.Output{}, Return: ret})
					default:
						readFails.Add(1)
					}
					if err == nil && call > killedAt.Load() {
						okAfter.Add(1)
					}
				}
				cancel()
				time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond) // bound the history's size
			}
		}()
	}

	time.Sleep(time.Second) // let the history build up
	leader := tg.waitLeader()
	killed.Store(int64(leader))
	killedAt.Store(now())
	t.Logf("killing leader %s at %v", tg.nodes[leader].name, time.Since(start))
	tg.kill(leader)
	newLeader := tg.waitLeader()
	t.Logf("new leader %s at %v", tg.nodes[newLeader].name, time.Since(start))
	testpoll.Until(t, 20*time.Second, "successful operations after the kill", func() bool { return okAfter.Load() >= 300 })
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	t.Logf("history: %d operations, %d writes of unknown outcome, %d writes certainly not applied and %d failed reads dropped, %d successful after the kill",
		len(history), unknowns.Load(), notApplied.Load(), readFails.Load(), okAfter.Load())
	res, _ := porcupine.CheckOperationsVerbose(register.Model, history, 30*time.Second)
	if res != porcupine.Ok {
		t.Fatalf("history is not linearizable (result %v)", res)
	}
}
