package memory

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
)

// TestIndexModel runs random adds, removes, lookups, sweeps (removal
// during each) and compactions against a map.
func TestIndexModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := newIndex()
	model := map[string]*entry{}
	check := func(step int) {
		t.Helper()
		if x.len() != len(model) {
			t.Fatalf("step %d: index holds %d, model %d", step, x.len(), len(model))
		}
		for id, e := range model {
			if got := x.get(id); got != e {
				t.Fatalf("step %d: get(%q) = %p, want %p", step, id, got, e)
			}
		}
		seen := map[*entry]bool{}
		x.each(func(e *entry) { seen[e] = true })
		if len(seen) != len(model) {
			t.Fatalf("step %d: each saw %d entries, model has %d", step, len(seen), len(model))
		}
	}
	for step := range 20_000 {
		id := fmt.Sprint("k", r.IntN(3000))
		switch op := r.IntN(100); {
		case op < 55:
			if model[id] == nil {
				e := newEntry(id, session.KindSession, 0)
				x.add(e)
				model[id] = e
			}
		case op < 90:
			if x.remove(id) != (model[id] != nil) {
				t.Fatalf("step %d: remove(%q) disagrees with the model", step, id)
			}
			delete(model, id)
		case op < 98:
			if got := x.get(id); got != model[id] {
				t.Fatalf("step %d: get(%q) = %p, want %p", step, id, got, model[id])
			}
		default: // a sweep: remove about half while iterating, then compact
			x.each(func(e *entry) {
				if id := e.id(); len(id)%2 == 0 && model[id] != nil {
					x.remove(id)
					delete(model, id)
				}
			})
			x.compact()
			check(step)
		}
	}
	check(-1)
	for id := range model {
		x.remove(id)
	}
	x.compact()
	if x.len() != 0 || len(x.slots) != minIndexSlots {
		t.Fatalf("emptied index: %d keys, %d slots", x.len(), len(x.slots))
	}
}
