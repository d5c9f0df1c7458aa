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
		switch n := rng.IntN(100); {
		case n < 20:
			var fields []session.Field
			for _, k := range somekeys() {
				fields = append(fields, session.Field{Key: k, Value: val})
			}
			a, e1 := s.Save(ctx, id, fields...)
			b, e2 := ref.Save(ctx, id, fields...)
			same(step, "Save", a, b, e1, e2)
		case n < 30:
			a, e1 := s.Get(ctx, id, key)
			b, e2 := ref.Get(ctx, id, key)
			same(step, "Get", a, b, e1, e2)
		case n < 35:
			a, e1 := s.GetAll(ctx, id)
			b, e2 := ref.GetAll(ctx, id)
			same(step, "GetAll", a, b, e1, e2)
		case n < 38:
			a, e1 := s.Exists(ctx, id, key)
			b, e2 := ref.Exists(ctx, id, key)
			same(step, "Exists", a, b, e1, e2)
		case n < 43:
			ks := somekeys()
			a, e1 := s.Evict(ctx, id, ks...)
			b, e2 := ref.Evict(ctx, id, ks...)
			same(step, "Evict", a, b, e1, e2)
		case n < 46:
			ks := somekeys()
			a, e1 := s.Clear(ctx, id, ks...)
			b, e2 := ref.Clear(ctx, id, ks...)
			same(step, "Clear", a, b, e1, e2)
		case n < 54:
			e1 := s.SaveProp(ctx, id, key, val)
			e2 := ref.SaveProp(ctx, id, key, val)
			same(step, "SaveProp", nil, nil, e1, e2)
		case n < 58:
			a, e1 := s.GetProp(ctx, id, key)
			b, e2 := ref.GetProp(ctx, id, key)
			same(step, "GetProp", a, b, e1, e2)
		case n < 61:
			a, e1 := s.Props(ctx, id)
			b, e2 := ref.Props(ctx, id)
			same(step, "Props", a, b, e1, e2)
		case n < 64:
			a, e1 := s.EvictProp(ctx, id, key)
			b, e2 := ref.EvictProp(ctx, id, key)
			same(step, "EvictProp", a, b, e1, e2)
		case n < 69:
			e := session.Expiry{
				Idle: []time.Duration{0, session.NoExpiry, 10 * time.Minute, time.Hour}[rng.IntN(4)],
				TTL:  []time.Duration{0, 0, 5 * time.Minute, 2 * time.Hour}[rng.IntN(4)],
			}
			e1 := s.SetExpiry(ctx, id, e)
			e2 := ref.SetExpiry(ctx, id, e)
			same(step, fmt.Sprintf("SetExpiry(%+v)", e), nil, nil, e1, e2)
		case n < 74:
			a, e1 := s.TTL(ctx, id)
			b, e2 := ref.TTL(ctx, id)
			same(step, "TTL", a, b, e1, e2)
		case n < 77:
			e1 := s.SaveGlobal(ctx, key, val)
			e2 := ref.SaveGlobal(ctx, key, val)
			same(step, "SaveGlobal", nil, nil, e1, e2)
		case n < 79:
			a, e1 := s.EvictGlobal(ctx, key)
			b, e2 := ref.EvictGlobal(ctx, key)
			same(step, "EvictGlobal", a, b, e1, e2)
		case n < 81:
			a, e1 := s.Globals(ctx)
			b, e2 := ref.Globals(ctx)
			same(step, "Globals", a, b, e1, e2)
		case n < 93:
			d := time.Duration(rng.IntN(20)) * time.Minute
			clock.Advance(d)
			same(step, "Advance "+d.String(), nil, nil, nil, nil)
		case n < 97:
			a, e1 := s.Sweep(ctx)
			b, e2 := ref.Sweep(ctx)
			same(step, "Sweep", a, b, e1, e2)
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
