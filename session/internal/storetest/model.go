package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// Reopener is how RunModel gets the store under test. Called once per run,
// it picks a fresh location and returns reopen, which opens the store there:
// the first call on empty storage, each later one (after the previous store
// was closed) on what the earlier ones left. The store must read time from
// now, slide idle timeouts on reads when touchOnRead is set, and be closed
// by a t.Cleanup if the run ends while it is open.
type Reopener func(t *testing.T, now func() time.Time, touchOnRead bool) (reopen func() Store)

// RunModel runs random operations on the store under test and on the
// in-memory reference store side by side, under one fake clock, and
// compares every result; it closes and reopens the store now and then, so
// that what survives a restart is compared too. It runs seeds seeds in each
// of the subtests TouchOnRead=false and TouchOnRead=true.
func RunModel(t *testing.T, seeds uint64, open Reopener) {
	for _, touch := range []bool{false, true} {
		t.Run(fmt.Sprintf("TouchOnRead=%v", touch), func(t *testing.T) {
			for seed := range seeds {
				runModel(t, seed, touch, open)
			}
		})
	}
}

func runModel(t *testing.T, seed uint64, touch bool, open Reopener) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 42))
	clock := NewClock()
	ref, err := memory.New(memory.Config{Now: clock.Now, TouchOnRead: touch, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close(ctx)
	reopen := open(t, clock.Now, touch)
	s := reopen()
	ids := []string{"a", "b", "c", "global", string(make([]byte, 600))}
	keys := []string{"k1", "k2", "k3", "stage"}
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	somekeys := func() []string {
		out := make([]string, rng.IntN(3))
		for i := range out {
			out[i] = pick(keys)
		}
		return out
	}
	var trace []string
	var id0 string
	same := func(step int, op string, got, want any, gotErr, wantErr error) {
		t.Helper()
		trace = append(trace, fmt.Sprintf("%d %s(%.8q) = %v, %v", step, op, id0, got, gotErr))
		if len(trace) > 40 {
			trace = trace[1:]
		}
		if errClass(gotErr) != errClass(wantErr) || !reflect.DeepEqual(got, want) {
			t.Logf("last operations:\n%s", strings.Join(trace, "\n"))
		}
		if errClass(gotErr) != errClass(wantErr) {
			t.Fatalf("seed %d step %d %s: error %v, reference %v", seed, step, op, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d step %d %s: got %v, reference %v", seed, step, op, got, want)
		}
	}
	for step := range 1500 {
		id, key := pick(ids), pick(keys)
		id0 = id
		val := []byte(fmt.Sprint(step))
		// both runs op on the store under test, then on the reference, and
		// compares the results.
		both := func(op string, call func(st modelStore) (any, error)) {
			got, e1 := call(s)
			want, e2 := call(ref)
			same(step, op, got, want, e1, e2)
		}
		switch n := rng.IntN(100); {
		case n < 20:
			var fields []session.Field
			for _, k := range somekeys() {
				fields = append(fields, session.Field{Key: k, Value: val})
			}
			both("Save", func(st modelStore) (any, error) { return st.Save(ctx, id, fields...) })
		case n < 30:
			both("Get", func(st modelStore) (any, error) { return st.Get(ctx, id, key) })
		case n < 35:
			both("GetAll", func(st modelStore) (any, error) { return st.GetAll(ctx, id) })
		case n < 38:
			both("Exists", func(st modelStore) (any, error) { return st.Exists(ctx, id, key) })
		case n < 43:
			ks := somekeys()
			both("Evict", func(st modelStore) (any, error) { return st.Evict(ctx, id, ks...) })
		case n < 46:
			ks := somekeys()
			both("Clear", func(st modelStore) (any, error) { return st.Clear(ctx, id, ks...) })
		case n < 54:
			both("SaveProp", func(st modelStore) (any, error) { return nil, st.SaveProp(ctx, id, key, val) })
		case n < 58:
			both("GetProp", func(st modelStore) (any, error) { return st.GetProp(ctx, id, key) })
		case n < 61:
			both("Props", func(st modelStore) (any, error) { return st.Props(ctx, id) })
		case n < 64:
			both("EvictProp", func(st modelStore) (any, error) { return st.EvictProp(ctx, id, key) })
		case n < 69:
			e := session.Expiry{
				Idle: []time.Duration{0, session.NoExpiry, 10 * time.Minute, time.Hour}[rng.IntN(4)],
				TTL:  []time.Duration{0, 0, 5 * time.Minute, 2 * time.Hour}[rng.IntN(4)],
			}
			both(fmt.Sprintf("SetExpiry(%+v)", e), func(st modelStore) (any, error) { return nil, st.SetExpiry(ctx, id, e) })
		case n < 74:
			both("TTL", func(st modelStore) (any, error) { return st.TTL(ctx, id) })
		case n < 77:
			both("SaveGlobal", func(st modelStore) (any, error) { return nil, st.SaveGlobal(ctx, key, val) })
		case n < 79:
			both("EvictGlobal", func(st modelStore) (any, error) { return st.EvictGlobal(ctx, key) })
		case n < 81:
			both("Globals", func(st modelStore) (any, error) { return st.Globals(ctx) })
		case n < 93:
			d := time.Duration(rng.IntN(20)) * time.Minute
			clock.Advance(d)
			same(step, "Advance "+d.String(), nil, nil, nil, nil)
		case n < 97:
			both("Sweep", func(st modelStore) (any, error) { return st.Sweep(ctx) })
		default:
			if _, err := s.Check(ctx); err != nil {
				t.Fatalf("seed %d step %d: Check: %v", seed, step, err)
			}
			if err := s.Close(ctx); err != nil {
				t.Fatal(err)
			}
			s = reopen()
		}
	}
	if _, err := s.Check(ctx); err != nil {
		t.Fatalf("seed %d: Check: %v", seed, err)
	}
}

// modelStore is what RunModel calls on both the store under test and the
// reference.
type modelStore interface {
	session.Store
	session.Sweeper
}

// errClass reduces an error to what the contract specifies about it.
func errClass(err error) string {
	switch {
	case err == nil:
		return "nil"
	case errors.Is(err, session.ErrNotFound):
		return "ErrNotFound"
	case errors.Is(err, session.ErrInvalidID):
		return "ErrInvalidID"
	case errors.Is(err, session.ErrInvalidKey):
		return "ErrInvalidKey"
	}
	return "other: " + err.Error()
}
