//go:build linux

package loadgen

import (
	"math"
	"testing"
)

func TestHistogramBuckets(t *testing.T) {
	// Every bucket's midpoint is within 0.8% of the values it holds.
	for _, v := range []int64{0, 1, 255, 256, 257, 1000, 12345, 1e6, 1e9 + 7, 60e9} {
		mid := bucketMid(bucketOf(v))
		if v > 0 && math.Abs(mid-float64(v))/float64(v) > 1.0/128 {
			t.Errorf("value %d: bucket midpoint %g is more than 0.8%% off", v, mid)
		}
	}
	for v := int64(1); v < 1<<20; v = v*3/2 + 1 {
		if bucketOf(v) < bucketOf(v-1) {
			t.Fatalf("bucketOf is not monotonic at %d", v)
		}
	}
}

func TestHistogramPercentiles(t *testing.T) {
	tests := []struct {
		name   string
		values func(h *Histogram)
		want   Percentiles // µs, compared within 1%
	}{
		{"one value", func(h *Histogram) { h.Record(5000) }, Percentiles{Count: 1, P50: 5, P90: 5, P99: 5, P999: 5, Max: 5}},
		{"uniform 1…1000 µs", func(h *Histogram) {
			for i := int64(1); i <= 1000; i++ {
				h.Record(i * 1000)
			}
		}, Percentiles{Count: 1000, P50: 500, P90: 900, P99: 990, P999: 999, Max: 1000}},
		{"outlier", func(h *Histogram) {
			for range 999 {
				h.Record(100_000)
			}
			h.Record(2e9)
		}, Percentiles{Count: 1000, P50: 100, P90: 100, P99: 100, P999: 100, Max: 2e6}},
		{"negative counts as zero", func(h *Histogram) { h.Record(-5) }, Percentiles{Count: 1}},
	}
	near := func(got, want float64) bool { return math.Abs(got-want) <= 0.01*want+0.1 }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Split the values over two histograms and merge: the same result.
			var a, b Histogram
			tt.values(&a)
			tt.values(&b)
			got := a.Snapshot().Merge(b.Snapshot()).Percentiles()
			w := tt.want
			w.Count *= 2
			if got.Count != w.Count || !near(got.P50, w.P50) || !near(got.P90, w.P90) || !near(got.P99, w.P99) ||
				!near(got.P999, w.P999) || !near(got.Max, w.Max) {
				t.Fatalf("got %+v; want %+v", got, w)
			}
		})
	}
}
