//go:build linux

package loadgen

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// Histogram buckets are log-linear: values below 2*subBuckets nanoseconds are
// exact; above, each power of two is split into subBuckets, so a bucket is at
// most 1/128 (0.8%) of its value wide. 31 powers above 256 ns reach 2^39 ns
// (9 min); larger values land in the last bucket.
const (
	subBits    = 7
	subBuckets = 1 << subBits
	nBuckets   = subBuckets * 33
)

// Histogram counts durations in nanoseconds. Record is safe for concurrent
// use and allocates nothing; the zero value is ready.
type Histogram struct {
	counts [nBuckets]atomic.Uint64
	max    atomic.Int64
}

func bucketOf(v int64) int {
	if v < 2*subBuckets {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	e := bits.Len64(uint64(v)) - subBits - 1 // >= 1
	i := subBuckets*(e+1) + int(uint64(v)>>e) - subBuckets
	return min(i, nBuckets-1)
}

// bucketMid is the value a bucket stands for: its midpoint.
func bucketMid(i int) float64 {
	if i < 2*subBuckets {
		return float64(i)
	}
	e := i/subBuckets - 1
	lo := uint64(i%subBuckets+subBuckets) << e
	return float64(lo) + float64(uint64(1)<<e)/2
}

// Record adds one duration of v nanoseconds (negative counts as 0).
func (h *Histogram) Record(v int64) {
	h.counts[bucketOf(v)].Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Snapshot returns the counts so far in a mergeable, encodable form.
func (h *Histogram) Snapshot() HistSnapshot {
	var s HistSnapshot
	for i := range h.counts {
		if c := h.counts[i].Load(); c > 0 {
			s.Buckets = append(s.Buckets, [2]uint64{uint64(i), c})
		}
	}
	s.Max = h.max.Load()
	return s
}

// HistSnapshot is a sparse copy of a Histogram: (bucket, count) pairs in
// bucket order, and the exact maximum.
type HistSnapshot struct {
	Buckets [][2]uint64 `json:"b,omitempty"`
	Max     int64       `json:"max"`
}

// Merge returns the sum of a and b.
func (a HistSnapshot) Merge(b HistSnapshot) HistSnapshot {
	out := HistSnapshot{Max: max(a.Max, b.Max)}
	i, j := 0, 0
	for i < len(a.Buckets) || j < len(b.Buckets) {
		switch {
		case j == len(b.Buckets) || (i < len(a.Buckets) && a.Buckets[i][0] < b.Buckets[j][0]):
			out.Buckets = append(out.Buckets, a.Buckets[i])
			i++
		case i == len(a.Buckets) || b.Buckets[j][0] < a.Buckets[i][0]:
			out.Buckets = append(out.Buckets, b.Buckets[j])
			j++
		default:
			out.Buckets = append(out.Buckets, [2]uint64{a.Buckets[i][0], a.Buckets[i][1] + b.Buckets[j][1]})
			i++
			j++
		}
	}
	return out
}

// Count is the number of recorded values.
func (a HistSnapshot) Count() uint64 {
	var n uint64
	for _, b := range a.Buckets {
		n += b[1]
	}
	return n
}

// Quantile returns the value (ns) below which a fraction q of the values
// fall, within a bucket's precision; never more than the exact maximum.
func (a HistSnapshot) Quantile(q float64) float64 {
	n := a.Count()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	var seen uint64
	for _, b := range a.Buckets {
		seen += b[1]
		if seen >= rank {
			return math.Min(bucketMid(int(b[0])), float64(a.Max))
		}
	}
	return float64(a.Max)
}

// Percentiles summarizes a snapshot in microseconds.
type Percentiles struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

// Percentiles returns the usual quantiles in µs, rounded to 0.1 µs.
func (a HistSnapshot) Percentiles() Percentiles {
	us := func(ns float64) float64 { return math.Round(ns/100) / 10 }
	return Percentiles{
		Count: a.Count(),
		P50:   us(a.Quantile(0.50)),
		P90:   us(a.Quantile(0.90)),
		P99:   us(a.Quantile(0.99)),
		P999:  us(a.Quantile(0.999)),
		Max:   us(float64(a.Max)),
	}
}
