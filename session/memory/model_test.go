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
// every step.
func TestAgainstModel(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			s, _ := newStore(t, memory.Config{})
			r := rand.New(rand.NewPCG(seed, seed))
			model := map[string]string{}
			nkeys := 8 + r.IntN(300) // some seeds go past the 128-field threshold
			key := func() string { return fmt.Sprint("k", r.IntN(nkeys)) }
			val := func() string { return strings.Repeat(string(rune('a'+r.IntN(26))), r.IntN(300)) }
			for step := 0; step < 2000; step++ {
				switch op := r.IntN(10); {
				case op < 5:
					k, v := key(), val()
					_, inModel := model[k]
					added, err := s.Save(ctx, "u", session.Field{Key: k, Value: []byte(v)})
					if err != nil || (added == 1) == inModel {
						t.Fatalf("step %d: Save(%s) added=%d err=%v, model had it: %v", step, k, added, err, inModel)
					}
					model[k] = v
				case op < 7:
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
				case op < 9:
					k := key()
					_, inModel := model[k]
					n, err := s.Evict(ctx, "u", k)
					if err != nil || (n == 1) != inModel {
						t.Fatalf("step %d: Evict(%s) = %d, model had it: %v", step, k, n, inModel)
					}
					delete(model, k)
				default:
					keep := []string{key(), key()}
					if _, err := s.Clear(ctx, "u", keep...); err != nil {
						t.Fatal(err)
					}
					for k := range model {
						if k != keep[0] && k != keep[1] {
							delete(model, k)
						}
					}
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
