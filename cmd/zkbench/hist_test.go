package main

import (
	"math"
	"slices"
	"testing"
)

func TestBucketsCoverEveryValueWithinPrecision(t *testing.T) {
	var values []int64
	for v := int64(0); v < 5000; v++ {
		values = append(values, v)
	}
	for b := 8; b < histTopBit; b++ {
		p := int64(1) << b
		values = append(values, p-1, p, p+1, p+p/3, 2*p-1)
	}
	slices.Sort(values)
	prev := -1
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of [0, %d)", v, i, histBuckets)
		}
		hi := bucketHigh(i)
		if hi < v {
			t.Errorf("bucketHigh(bucketOf(%d)) = %d, below the value", v, hi)
		}
		if i > 0 && bucketHigh(i-1) >= v {
			t.Errorf("value %d belongs to bucket %d whose predecessor ends at %d", v, i, bucketHigh(i-1))
		}
		if float64(hi-v) > float64(v)/128 {
			t.Errorf("value %d reported as %d: error above 1/128", v, hi)
		}
		if v < histLinear && hi != v {
			t.Errorf("small value %d not exact: %d", v, hi)
		}
		if i < prev {
			t.Errorf("bucketOf not monotonic at %d", v)
		}
		prev = i
	}
	if got := bucketOf(1 << 50); got != histBuckets-1 {
		t.Errorf("bucketOf(2^50) = %d, want the last bucket %d", got, histBuckets-1)
	}
	if got := bucketOf(-5); got != 0 {
		t.Errorf("bucketOf(-5) = %d, want 0", got)
	}
}

func within(got, want int64, rel float64) bool {
	return math.Abs(float64(got-want)) <= rel*float64(want)
}

func TestPercentilesUniform(t *testing.T) {
	var h histogram
	for v := int64(1); v <= 100000; v++ {
		h.record(v)
	}
	for _, tc := range []struct {
		q    float64
		want int64
	}{{50, 50000}, {90, 90000}, {99, 99000}, {99.9, 99900}, {100, 100000}, {0, 1}} {
		if got := h.percentile(tc.q); !within(got, tc.want, 1.0/128) || got < tc.want {
			t.Errorf("p%g = %d, want %d (+0.78%%)", tc.q, got, tc.want)
		}
	}
	if h.count() != 100000 || h.min != 1 || h.max != 100000 {
		t.Errorf("count/min/max = %d/%d/%d", h.count(), h.min, h.max)
	}
	if m := h.mean(); m != 50000.5 {
		t.Errorf("mean = %v, want 50000.5", m)
	}
}

func TestPercentilesExactBelowLinearRange(t *testing.T) {
	var h histogram
	for v := int64(255); v >= 0; v-- {
		h.record(v)
	}
	for q, want := range map[float64]int64{50: 127, 25: 63, 99: 253, 100: 255} {
		if got := h.percentile(q); got != want {
			t.Errorf("p%g = %d, want %d", q, got, want)
		}
	}
}

func TestPercentilesTail(t *testing.T) {
	// 99% fast, 1% slow: p99 is still fast, p99.9 and max are the slow ones.
	var h histogram
	for range 990 {
		h.record(100)
	}
	for range 10 {
		h.record(5000)
	}
	for q, want := range map[float64]int64{50: 100, 99: 100, 99.9: 5000, 100: 5000} {
		if got := h.percentile(q); got != want {
			t.Errorf("p%g = %d, want %d", q, got, want)
		}
	}
	// A single huge value is reported exactly as the maximum.
	h.record(1 << 45)
	if got := h.percentile(100); got != 1<<45 {
		t.Errorf("p100 = %d, want %d", got, int64(1)<<45)
	}
}

func TestMergeEqualsRecordingEverything(t *testing.T) {
	var a, b, all histogram
	for v := int64(0); v < 20000; v += 7 {
		a.record(v)
		all.record(v)
	}
	for v := int64(300); v < 900000; v += 113 {
		b.record(v)
		all.record(v)
	}
	var m histogram
	m.merge(&b)
	m.merge(&a)
	m.merge(&histogram{})
	if m.counts != all.counts || m.n != all.n || m.min != all.min || m.max != all.max || m.sum != all.sum {
		t.Fatalf("merged histogram differs: n %d/%d min %d/%d max %d/%d", m.n, all.n, m.min, all.min, m.max, all.max)
	}
}

func TestEmptyHistogram(t *testing.T) {
	var h histogram
	if h.percentile(99) != 0 || h.mean() != 0 || h.count() != 0 {
		t.Errorf("empty histogram: p99 %d mean %v count %d", h.percentile(99), h.mean(), h.count())
	}
	if l := summarize(&h); l != (latency{}) {
		t.Errorf("summary of empty histogram = %+v", l)
	}
}
