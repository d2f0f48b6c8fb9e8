package main

import (
	"bytes"
	"sync/atomic"
)

// Latency histogram in microseconds: 20 µs buckets up to 20 ms, 1 ms buckets up to 1 s, then
// one overflow bucket (its bound is the exact maximum). Safe for concurrent recording.
const (
	fineStep   = 20
	fineLimit  = 20_000
	coarseStep = 1000
	coarseEnd  = 1_000_000
	nFine      = fineLimit / fineStep
	nBuckets   = nFine + (coarseEnd-fineLimit)/coarseStep + 1
)

type Hist struct {
	buckets [nBuckets]atomic.Uint64
	count   atomic.Uint64
	max     atomic.Int64
}

func bucketOf(us int64) int {
	switch {
	case us < 0:
		return 0
	case us < fineLimit:
		return int(us / fineStep)
	case us < coarseEnd:
		return nFine + int((us-fineLimit)/coarseStep)
	}
	return nBuckets - 1
}

func upperBound(i int, max int64) int64 {
	switch {
	case i < nFine:
		return int64(i+1) * fineStep
	case i < nBuckets-1:
		return fineLimit + int64(i-nFine+1)*coarseStep
	}
	return max
}

func (h *Hist) Record(us int64) {
	h.buckets[bucketOf(us)].Add(1)
	h.count.Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

// Sparse returns [[upper bound µs, count], ...] for the non-empty buckets.
func (h *Hist) Sparse() [][2]int64 {
	out := [][2]int64{}
	max := h.max.Load()
	for i := range h.buckets {
		if c := h.buckets[i].Load(); c > 0 {
			ub := upperBound(i, max)
			if ub > max {
				ub = max
			}
			out = append(out, [2]int64{ub, int64(c)})
		}
	}
	return out
}

var btKey = []byte(`"bt":`)

// LocalHist is a Hist owned by one goroutine (an epoll worker, under its own lock): no atomics,
// so workers on different cores never contend for the same cache lines. Reports merge them.
type LocalHist struct {
	buckets [nBuckets]uint64
	count   uint64
	max     int64
	// Frames seen (data frames that are not heartbeats), and with -countgifts the gift:sent
	// frames and the sends they fold in (their "count" fields).
	frames, giftFrames, giftSends uint64
}

func (h *LocalHist) Record(us int64) {
	h.buckets[bucketOf(us)]++
	h.count++
	if us > h.max {
		h.max = us
	}
}

// AddTo adds this histogram to a shared one.
func (h *LocalHist) AddTo(dst *Hist) {
	for i, c := range h.buckets {
		if c > 0 {
			dst.buckets[i].Add(c)
		}
	}
	dst.count.Add(h.count)
	for {
		m := dst.max.Load()
		if h.max <= m || dst.max.CompareAndSwap(m, h.max) {
			return
		}
	}
}

// scanLatencies finds every `"bt":<unix ns>` in a frame (a frame may carry several messages)
// and records now-bt.
func scanLatencies(f []byte, now int64, h *LocalHist) {
	for {
		i := bytes.Index(f, btKey)
		if i < 0 {
			return
		}
		f = f[i+len(btKey):]
		var v int64
		j := 0
		for j < len(f) && f[j] >= '0' && f[j] <= '9' {
			v = v*10 + int64(f[j]-'0')
			j++
		}
		f = f[j:]
		if j > 0 {
			h.Record((now - v) / 1000)
		}
	}
}

var giftSentKey = []byte(`"event":"gift:sent"`)
var countKey = []byte(`"count":`)

// countGift adds a gift:sent frame and the sends it folds in ("count":N; its first occurrence is
// the frame's own count, ahead of the nested combo and totals objects).
func countGift(f []byte, h *LocalHist) {
	if !bytes.Contains(f, giftSentKey) {
		return
	}
	h.giftFrames++
	i := bytes.Index(f, countKey)
	if i < 0 {
		return
	}
	f = f[i+len(countKey):]
	var v uint64
	for j := 0; j < len(f) && f[j] >= '0' && f[j] <= '9'; j++ {
		v = v*10 + uint64(f[j]-'0')
	}
	h.giftSends += v
}
