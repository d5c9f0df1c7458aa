package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverEveryValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	values := []uint64{0, 1, 127, 128, 129, 191, 192, 255, 256, 1000, 1 << 40, math.MaxUint64 - 1, math.MaxUint64}
	for range 10000 {
		values = append(values, rng.Uint64()>>rng.IntN(64))
	}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside [0, %d)", v, i, numBuckets)
		}
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if lo > 0 && float64(hi-lo) > maxRelError*float64(lo) {
			t.Fatalf("bucket %d = [%d, %d] is wider than %.4f of its lower bound", i, lo, hi, maxRelError)
		}
	}
	// Buckets are contiguous: each starts right after the previous one.
	for i := 1; i < numBuckets; i++ {
		_, prevHi := bucketRange(i - 1)
		lo, _ := bucketRange(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ends at %d", i, lo, prevHi)
		}
	}
	if _, hi := bucketRange(numBuckets - 1); hi != math.MaxUint64 {
		t.Fatalf("last bucket ends at %d, want MaxUint64", hi)
	}
}

func TestQuantilesMatchExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var h histogram
	exact := make([]time.Duration, 0, 100000)
	for range 100000 {
		// Log-normal around 50 µs with a long tail, like network latency.
		d := time.Duration(50e3 * math.Exp(rng.NormFloat64()))
		h.record(d)
		exact = append(exact, d)
	}
	slices.Sort(exact)
	for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
		rank := max(int(math.Ceil(q*float64(len(exact)))), 1)
		want := exact[rank-1]
		got := h.quantile(q)
		if got < want || float64(got-want) > maxRelError*float64(want)+1 {
			t.Errorf("quantile(%v) = %v, exact %v: want within +%.1f%%", q, got, want, 100*maxRelError)
		}
	}
	if h.quantile(0) != exact[0] || h.quantile(1) != exact[len(exact)-1] {
		t.Errorf("quantile(0), quantile(1) = %v, %v; want min %v and max %v", h.quantile(0), h.quantile(1), exact[0], exact[len(exact)-1])
	}
	var sum time.Duration
	for _, d := range exact {
		sum += d
	}
	if m := h.mean(); m != sum/time.Duration(len(exact)) {
		t.Errorf("mean = %v, want %v", m, sum/time.Duration(len(exact)))
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all histogram
	for i := range 1000 {
		d := time.Duration(i*i) * time.Nanosecond
		all.record(d)
		if i%3 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	var m histogram
	m.merge(&a)
	m.merge(&b)
	m.merge(&histogram{}) // empty: no change, min stays
	if m != all {
		t.Errorf("merge of parts differs from the whole: n %d/%d min %d/%d max %d/%d", m.n, all.n, m.min, all.min, m.max, all.max)
	}
}

func TestHistogramEmptyAndNegative(t *testing.T) {
	var h histogram
	if h.quantile(0.99) != 0 || h.mean() != 0 {
		t.Error("empty histogram must report zeros")
	}
	h.record(-time.Second)
	if h.n != 1 || h.max != 0 || h.quantile(1) != 0 {
		t.Errorf("negative duration must count as 0: %+v", h)
	}
}
