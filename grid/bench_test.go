package grid_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sessiongrid/sessiongrid/grid"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// benchSession starts a 3-member grid and returns its first member's router
// and a session, led by that member (owned) or by another one, whose field
// stage holds value.
func benchSession(b *testing.B, owned bool, value []byte) (*grid.Router, string) {
	g := newTestGrid(b, 3)
	m := g.live()[0]
	id := ""
	for i := 0; id == ""; i++ {
		if c := fmt.Sprint("u", i); (m.node.Owner(c) == m.node.Name()) == owned {
			id = c
		}
	}
	r := m.node.Router(nil)
	if _, err := r.Save(context.Background(), id, session.Field{Key: "stage", Value: value}); err != nil {
		b.Fatal(err)
	}
	return r, id
}

// BenchmarkGetLocal compares a Get of a session the member owns through the
// grid's router (what an embedded peer does) with the same Get on a bare
// memory store: the cost of routing when the owner is this process.
// Issue 5's target: within 2x.
func BenchmarkGetLocal(b *testing.B) {
	ctx := context.Background()
	value := []byte(`"MAIN_MENU_STAGE_0123456789"`)
	b.Run("memory", func(b *testing.B) {
		s, err := memory.New(memory.Config{SweepInterval: -1})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close(ctx)
		s.Save(ctx, "u1", session.Field{Key: "stage", Value: value})
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := s.Get(ctx, "u1", "stage"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("grid-owner", func(b *testing.B) {
		r, id := benchSession(b, true, value)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := r.Get(ctx, id, "stage"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("grid-remote", func(b *testing.B) {
		r, id := benchSession(b, false, value)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := r.Get(ctx, id, "stage"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
