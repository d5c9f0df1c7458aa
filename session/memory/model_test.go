package memory_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// TestAgainstModel drives one session through random saves (one and many
// keys, values of changing lengths, crossing the packed/map threshold),
// evictions and retained clears, and compares it with a plain map after
// every step. Key names share prefixes (k1, k12, k123). The test fails if
// no seed crosses the 128-field threshold, or if no retained clear runs on
// a session of more than 128 fields.
func TestAgainstModel(t *testing.T) {
	ctx := context.Background()
	var crossed, bigClears int // seeds past 128 fields; retained clears on them
	t.Cleanup(func() {
		t.Logf("%d seeds crossed, %d big clears", crossed, bigClears)
		if !t.Failed() && (crossed < 5 || bigClears < 10) {
			t.Errorf("%d seeds crossed 128 fields and %d retained clears ran on a session over 128 fields: the model does not exercise the large layout", crossed, bigClears)
		}
	})
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			s, _ := newStore(t, memory.Config{})
			r := rand.New(rand.NewPCG(seed, seed))
			model := map[string]string{}
			nkeys := 8 + r.IntN(300) // seeds with nkeys > 128 go past the 128-field threshold
			big := false
			key := func() string { return fmt.Sprint("k", r.IntN(nkeys)) }
			val := func() string { return strings.Repeat(string(rune('a'+r.IntN(26))), r.IntN(300)) }
			for step := 0; step < 2000; step++ {
				switch op := r.IntN(100); {
				case op < 55:
					k, v := key(), val()
					_, inModel := model[k]
					added, err := s.Save(ctx, "u", session.Field{Key: k, Value: []byte(v)})
					if err != nil || (added == 1) == inModel {
						t.Fatalf("step %d: Save(%s) added=%d err=%v, model had it: %v", step, k, added, err, inModel)
					}
					model[k] = v
				case op < 85:
					var fs []session.Field
					for i := r.IntN(5); i >= 0; i-- {
						k, v := key(), val()
						fs = append(fs, session.Field{Key: k, Value: []byte(v)})
					}
					if _, err := s.Save(ctx, "u", fs...); err != nil {
						t.Fatal(err)
					}
					for _, f := range fs {
						model[f.Key] = string(f.Value)
					}
				case op < 97:
					k := key()
					_, inModel := model[k]
					n, err := s.Evict(ctx, "u", k)
					if err != nil || (n == 1) != inModel {
						t.Fatalf("step %d: Evict(%s) = %d, model had it: %v", step, k, n, inModel)
					}
					delete(model, k)
				default:
					// Keep a random share of the keys, named exactly; some
					// kept names are prefixes of dropped ones and the other
					// way round.
					keep := []string{key(), key()}
					share := r.IntN(4) // keep about share/4 of the keys
					for k := range model {
						if r.IntN(4) < share {
							keep = append(keep, k)
						}
					}
					if len(model) > 128 {
						bigClears++
					}
					if _, err := s.Clear(ctx, "u", keep...); err != nil {
						t.Fatal(err)
					}
					kept := map[string]bool{}
					for _, k := range keep {
						kept[k] = true
					}
					for k := range model {
						if !kept[k] {
							delete(model, k)
						}
					}
				}
				if len(model) > 128 && !big {
					big = true
					crossed++
				}
				got, err := s.GetAll(ctx, "u")
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(model) {
					t.Fatalf("step %d: %d keys, model %d", step, len(got), len(model))
				}
				for k, v := range model {
					if string(got[k]) != v {
						t.Fatalf("step %d: %s = %q, model %q", step, k, got[k], v)
					}
				}
			}
		})
	}
}
