package memory

import (
	"fmt"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
)

// sumSize is what fields.size must report: the bytes of every key and value.
func sumSize(f *fields) int {
	n := 0
	f.each(func(k string, v []byte) { n += len(k) + len(v) })
	return n
}

// TestBigFieldsSizeKept: a set past bigThreshold keeps its byte count as
// it changes (size is asked on every write, so it must not sum the map).
func TestBigFieldsSizeKept(t *testing.T) {
	var f fields
	for i := range bigThreshold + 50 {
		f.set([]session.Field{{Key: fmt.Sprint("k", i), Value: []byte("v")}})
	}
	if f.big == nil {
		t.Fatal("the set did not move to the map form")
	}
	steps := []func(){
		func() { f.set([]session.Field{{Key: "k1", Value: []byte("a longer value")}}) },
		func() { f.set([]session.Field{{Key: "new", Value: []byte("x")}}) },
		func() { f.del([]string{"k2", "k3", "missing"}) },
		func() { f.retain([]string{"k1", "k4", "new"}) },
		func() { f.set([]session.Field{{Key: "k4", Value: nil}}) },
	}
	for i, step := range steps {
		step()
		if got, want := f.size(), sumSize(&f); got != want {
			t.Fatalf("after step %d: size %d, the pairs hold %d bytes", i, got, want)
		}
	}
}

// BenchmarkSaveBigHash writes one field at a time into a session of 100,000
// fields (redis-benchmark's HSET shape): its cost must not grow with the
// session's size.
func BenchmarkSaveBigHash(b *testing.B) {
	s, err := New(Config{SweepInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(b.Context())
	for i := range 100_000 {
		if _, err := s.Save(b.Context(), "myhash", session.Field{Key: fmt.Sprint("element:", i), Value: []byte("xxx")}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Save(b.Context(), "myhash", session.Field{Key: fmt.Sprint("element:", i%100_000), Value: []byte("yyy")})
	}
}
