package main

import (
	"math"
	"math/bits"
	"time"
)

// histogram records durations in log-linear buckets, as HdrHistogram does:
// values below 2^subBits nanoseconds get a bucket each, and every power of
// two above is split into 2^(subBits-1) equal buckets, so a bucket is at
// most 1/64 (1.6%) of its values wide whatever the magnitude, from
// nanoseconds to hours, in a fixed 30 KB. Min, max, count and sum are
// exact. A histogram is owned by one goroutine; merge them afterwards.
type histogram struct {
	counts [numBuckets]uint64
	n      uint64
	sum    uint64 // nanoseconds
	min    uint64
	max    uint64
}

const (
	subBits     = 7
	subCount    = 1 << subBits // 128 exact buckets for values < 128 ns
	halfCount   = subCount / 2 // buckets per power of two above that
	maxShift    = 64 - subBits // largest shift of a uint64
	numBuckets  = (maxShift + 2) * halfCount
	maxRelError = 1.0 / halfCount // width of a bucket relative to its lower bound
)

// bucketOf returns the bucket of v.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits // >= 1
	return shift*halfCount + int(v>>shift)
}

// bucketRange returns the smallest and largest values of bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < subCount {
		return uint64(i), uint64(i)
	}
	shift := i/halfCount - 1
	mant := uint64(i - shift*halfCount) // in [halfCount, subCount)
	lo = mant << shift
	return lo, lo + (uint64(1) << shift) - 1
}

// record adds one duration; negative durations count as zero.
func (h *histogram) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += v
}

// merge adds every value of o.
func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// quantile returns the value at quantile q in [0, 1]: the upper end of the
// bucket holding the ceil(q*n)-th smallest value, clamped to [min, max], so
// it overstates the true value by at most one bucket width (1.6%).
// Quantile 0 is the exact minimum, 1 the exact maximum.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if q <= 0 {
		return time.Duration(h.min)
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketRange(i)
			return time.Duration(min(max(hi, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

// mean returns the exact mean.
func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / h.n)
}
