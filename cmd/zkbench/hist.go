package main

import (
	"math"
	"math/bits"
)

// The histogram is log-linear, like HdrHistogram: values below histLinear
// microseconds each have their own bucket, and every power of two above is
// split into histHalf equal buckets, so a bucket is never wider than 1/128 of
// its values (0.78% relative error) while the whole range up to 2^histTopBit
// µs (12.7 days) takes 35 KB.
const (
	histSubBits = 8
	histLinear  = 1 << histSubBits
	histHalf    = histLinear / 2
	histTopBit  = 40
	histBuckets = histLinear + (histTopBit-histSubBits)*histHalf
)

// histogram records latencies in microseconds. The zero value is empty and
// ready; it is not safe for concurrent use (each session owns one and they are
// merged once the sessions have stopped).
type histogram struct {
	counts [histBuckets]uint64
	n      uint64
	sum    float64
	min    int64
	max    int64
}

// bucketOf returns the index of the bucket holding v (negative values count
// as 0, values beyond the range go to the last bucket).
func bucketOf(v int64) int {
	if v < histLinear {
		return int(max(v, 0))
	}
	h := bits.Len64(uint64(v)) - 1 // highest set bit, >= histSubBits
	if h >= histTopBit {
		return histBuckets - 1
	}
	shift := h - histSubBits + 1
	sub := int(v>>shift) - histHalf
	return histLinear + (h-histSubBits)*histHalf + sub
}

// bucketHigh returns the highest value that falls into bucket i.
func bucketHigh(i int) int64 {
	if i < histLinear {
		return int64(i)
	}
	k := i - histLinear
	h := k/histHalf + histSubBits
	shift := h - histSubBits + 1
	low := int64(histHalf+k%histHalf) << shift
	return low + 1<<shift - 1
}

// record adds one value in microseconds.
func (h *histogram) record(us int64) {
	us = max(us, 0)
	if h.n == 0 || us < h.min {
		h.min = us
	}
	if us > h.max {
		h.max = us
	}
	h.counts[bucketOf(us)]++
	h.n++
	h.sum += float64(us)
}

// merge adds every value recorded in o.
func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
}

// count returns the number of recorded values.
func (h *histogram) count() uint64 { return h.n }

// mean returns the exact mean, 0 when empty.
func (h *histogram) mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / float64(h.n)
}

// percentile returns the value below or at which q percent of the recorded
// values fall (the nearest-rank definition), as the highest value of its
// bucket capped at the exact maximum; 0 when empty.
func (h *histogram) percentile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q / 100 * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			if i == histBuckets-1 { // the overflow bucket has no upper bound
				return h.max
			}
			return min(bucketHigh(i), h.max)
		}
	}
	return h.max
}
