package memory

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/sessiongrid/sessiongrid/session"
)

// sumSize is what fields.size must report: the bytes of every key and value.
func sumSize(f section) int {
	n := 0
	f.each(func(k string, v []byte) { n += len(k) + len(v) })
	return n
}

// TestBigFieldsSizeKept: a set past bigThreshold keeps its byte count as
// it changes (size is asked on every write, so it must not sum the map).
func TestBigFieldsSizeKept(t *testing.T) {
	f := newEntry("id", session.KindSession, 0).dataSec()
	for i := range bigThreshold + 50 {
		f.set([]session.Field{{Key: fmt.Sprint("k", i), Value: []byte("v")}})
	}
	if f.big() == nil {
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
		if got, want := f.size(), sumSize(f); got != want {
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

// TestEntrySize: an entry stays within the 48-byte size class (it is paid
// once per key).
func TestEntrySize(t *testing.T) {
	if n := unsafe.Sizeof(entry{}); n > 48 {
		t.Fatalf("entry is %d bytes, want ≤ 48", n)
	}
}

// TestOneAllocationPerSession: a session created by one Save of several
// fields costs two allocations, its entry and its block, and its block is
// not moved as the pairs are written into it.
func TestOneAllocationPerSession(t *testing.T) {
	s, err := New(Config{SweepInterval: -1, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(t.Context())
	v := make([]byte, 100)
	kvs := []session.Field{{Key: "field:1", Value: v}, {Key: "field:2", Value: v}, {Key: "field:3", Value: v}}
	ids := make([]string, 200)
	for i := range ids {
		ids[i] = fmt.Sprint("session:", i)
	}
	i := 0
	allocs := testing.AllocsPerRun(100, func() {
		s.Save(t.Context(), ids[i], kvs...)
		i++
	})
	// The index grows now and then: allow a fraction.
	limit := 2.5
	if raceEnabled {
		limit += 1 // the block's allocation counts twice (race_test.go)
	}
	if allocs > limit {
		t.Fatalf("a new session costs %.1f allocations, want 2 (entry, block)", allocs)
	}
}
