package main

import (
	"strconv"
	"sync/atomic"
	"time"
)

// pace runs the open-loop send schedule of the pub, gift and chat modes. Every millisecond it works
// out how many requests are due at the current rate (rate.Load() per second; 0 = paused) and calls
// send(from, due): `from` requests were scheduled before this call. After a stall it catches up by
// at most catchUp(rate) requests and drops the rest from the schedule. It never returns.
func pace(rate *atomic.Int64, catchUp func(r int64) int64, send func(from, due int64)) {
	var seq, baseSent int64
	base := time.Now()
	lastRate := int64(0)
	tick := time.NewTicker(time.Millisecond)
	for now := range tick.C {
		r := rate.Load()
		if r != lastRate {
			lastRate, base, baseSent = r, now, seq
		}
		if r == 0 {
			continue
		}
		due := int64(now.Sub(base).Seconds()*float64(r)) - (seq - baseSent)
		if max := catchUp(r); due > max {
			base = base.Add(time.Duration(float64(due-max) / float64(r) * 1e9))
			due = max
		}
		send(seq, due)
		if due > 0 {
			seq += due
		}
	}
}

// burst20ms is the catch-up of the pub and gift modes: never more than 20 ms worth after a stall.
func burst20ms(r int64) int64 { return r/50 + 1 }

// setRate answers the "rate <requests/s>" command: the pacer picks the new rate up on its next tick.
func setRate(rate *atomic.Int64, arg string) {
	v, _ := strconv.ParseInt(arg, 10, 64)
	rate.Store(v)
	emit(map[string]any{"type": "ok"})
}
