package memory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

func TestExportImport(t *testing.T) {
	ctx := context.Background()
	src, c := newStore(t, memory.Config{DefaultIdle: time.Hour})
	for i := 0; i < 200; i++ {
		id := fmt.Sprint("u", i)
		src.Save(ctx, id, session.Field{Key: "stage", Value: []byte(id)}, session.Field{Key: "n", Value: []byte("1")})
		src.SaveProp(ctx, id, "name", []byte("p"+id))
	}
	src.SetString(ctx, "lock", []byte("tok"), session.SetOptions{TTL: time.Minute})
	src.SetExpiry(ctx, "u7", session.Expiry{Idle: session.NoExpiry, TTL: 10 * time.Minute})
	src.Save(ctx, "gone", session.Field{Key: "k", Value: []byte("v")})
	src.SetExpiry(ctx, "gone", session.Expiry{Idle: time.Second})
	c.Advance(2 * time.Second)

	dst, _ := newStore(t, memory.Config{Now: c.Now})
	n := 0
	err := src.Export(ctx, func(k string) bool { return k != "u3" }, func(r memory.Record) error {
		n++
		return dst.Import(ctx, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 200 { // 199 sessions (u3 filtered, "gone" expired) + the lock
		t.Fatalf("exported %d records, want 200", n)
	}
	for i := 0; i < 200; i++ {
		id := fmt.Sprint("u", i)
		v, err := dst.Get(ctx, id, "stage")
		if i == 3 {
			if err == nil {
				t.Fatal("filtered key was exported")
			}
			continue
		}
		if string(v) != id {
			t.Fatalf("%s stage = %q (%v)", id, v, err)
		}
		if p, _ := dst.GetProp(ctx, id, "name"); string(p) != "p"+id {
			t.Fatalf("%s prop = %q", id, p)
		}
	}
	if v, _ := dst.GetString(ctx, "lock"); string(v) != "tok" {
		t.Fatalf("lock = %q", v)
	}
	for _, id := range []string{"u7", "u8", "lock"} {
		want, _ := src.TTL(ctx, id)
		got, _ := dst.TTL(ctx, id)
		if got != want {
			t.Fatalf("%s TTL %v, source %v", id, got, want)
		}
	}
	if _, err := dst.Get(ctx, "gone", "k"); err == nil {
		t.Fatal("expired key imported")
	}
	// Importing again replaces, never merges.
	dst.Save(ctx, "u1", session.Field{Key: "extra", Value: []byte("x")})
	src.Export(ctx, func(k string) bool { return k == "u1" }, func(r memory.Record) error { return dst.Import(ctx, r) })
	if ok, _ := dst.Exists(ctx, "u1", "extra"); ok {
		t.Fatal("Import merged into the existing session")
	}
	if st, sd := src.Stats(), dst.Stats(); sd.Sessions != 199 || sd.Strings != 1 || st.Sessions != 201 {
		t.Fatalf("stats src %+v dst %+v", st, sd)
	}
}
