package main

// Presence churn: -n workers connect and disconnect -users users (b<offset+u>; worker w cycles
// through users w, w+n, ...) in a loop: dial, wait for session:ready, stay -hold, close. -watchers
// watcher connections (users b<offset+users+j>, on -watchurls) follow every churning user
// (user:follow) and presence:subscribe to all of them, so each cycle should reach every watcher
// as one presence:update "online" and one "offline". Latency: online seen - dial start of that
// cycle, offline seen - close sent. A change seen for a previous cycle of the same user (the user
// cycled again before it arrived) would measure negative; those are counted as "stale".

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var (
	presenceKey = []byte(`"event":"presence:update"`)
	userIDKey   = []byte(`"userId":"b`)
	onlineKey   = []byte(`"status":"online"`)
	offlineKey  = []byte(`"status":"offline"`)
)

type presenceWindow struct {
	cycles, errs, online, offline, stale atomic.Int64
	cycleHist, onHist, offHist           *Hist
}

func newPresenceWindow() *presenceWindow {
	return &presenceWindow{cycleHist: &Hist{}, onHist: &Hist{}, offHist: &Hist{}}
}

// requestAll writes the requests (ids first..first+len-1) in one write and waits for every ack.
func requestAll(c *Conn, reqs [][]byte, what string) error {
	var buf []byte
	for _, r := range reqs {
		buf = c.AppendFrame(buf, opText, r)
	}
	if err := c.Write(buf); err != nil {
		return err
	}
	acks := 0
	return awaitFrame(c, nil, what, func(f []byte) (bool, error) {
		if !bytes.HasPrefix(f, []byte(`{"ack":`)) {
			return false, nil
		}
		if bytes.Contains(f, errorKey) {
			return false, fmt.Errorf("refused: %s", f)
		}
		acks++
		return acks == len(reqs), nil
	})
}

func runPresence(o options) {
	p := nativeProto{}
	if o.users < o.n {
		fatal("presence: -users (%d) must be at least -n (%d)", o.users, o.n)
	}
	watchURLs := o.watchURLs
	if len(watchURLs) == 0 {
		watchURLs = o.urls
	}
	tOn := make([]atomic.Int64, o.users)
	tOff := make([]atomic.Int64, o.users)
	var win atomic.Pointer[presenceWindow]
	win.Store(newPresenceWindow())
	var firstErr atomic.Value
	var dropped atomic.Int64

	// Watchers: follow every churning user, then subscribe to their presence (≤ 200 per request).
	watchers := make([]*Conn, o.watchers)
	var wg sync.WaitGroup
	var setupErr atomic.Value
	for j := 0; j < o.watchers; j++ {
		wg.Add(1)
		go func(j int) {
			defer wg.Done()
			c, err := open(o, p, o.offset+o.users+j, watchURLs[j%len(watchURLs)], false)
			if err != nil {
				setupErr.CompareAndSwap(nil, err.Error())
				return
			}
			var follows, subs [][]byte
			for u := 0; u < o.users; u++ {
				follows = append(follows, []byte(`{"event":"user:follow","id":`+strconv.Itoa(10+u)+`,"data":{"userId":"b`+strconv.Itoa(o.offset+u)+`"}}`))
			}
			for u0 := 0; u0 < o.users; u0 += 200 {
				ids := []byte{}
				for u := u0; u < o.users && u < u0+200; u++ {
					if u > u0 {
						ids = append(ids, ',')
					}
					ids = append(ids, `"b`+strconv.Itoa(o.offset+u)+`"`...)
				}
				subs = append(subs, []byte(`{"event":"presence:subscribe","id":`+strconv.Itoa(1_000_000+u0)+`,"data":{"userIds":[`+string(ids)+`]}}`))
			}
			if err := requestAll(c, follows, "follow"); err != nil {
				setupErr.CompareAndSwap(nil, err.Error())
				return
			}
			if err := requestAll(c, subs, "subscribe"); err != nil {
				setupErr.CompareAndSwap(nil, err.Error())
				return
			}
			watchers[j] = c
		}(j)
	}
	wg.Wait()
	if msg, ok := setupErr.Load().(string); ok {
		fatal("presence watchers: %s", msg)
	}
	for _, c := range watchers {
		go func(c *Conn) {
			for {
				_, f, err := c.ReadFrame()
				if err != nil {
					dropped.Add(1)
					return
				}
				if !bytes.Contains(f, presenceKey) {
					continue
				}
				now := time.Now().UnixNano()
				i := bytes.Index(f, userIDKey)
				if i < 0 {
					continue
				}
				id, _ := readInt(f, i+len(userIDKey))
				u := int(id) - o.offset
				if u < 0 || u >= o.users {
					continue
				}
				w := win.Load()
				var t0 int64
				var h *Hist
				switch {
				case bytes.Contains(f, onlineKey):
					t0, h = tOn[u].Load(), w.onHist
					w.online.Add(1)
				case bytes.Contains(f, offlineKey):
					t0, h = tOff[u].Load(), w.offHist
					w.offline.Add(1)
				default:
					continue
				}
				if now < t0 {
					w.stale.Add(1)
					continue
				}
				h.Record((now - t0) / 1000)
			}
		}(c)
	}

	var stop atomic.Bool
	for wk := 0; wk < o.n; wk++ {
		go func(wk int) {
			for u := wk; !stop.Load(); u += o.n {
				if u >= o.users {
					u = wk
				}
				t0 := time.Now()
				tOn[u].Store(t0.UnixNano())
				c, err := open(o, p, o.offset+u, o.urls[u%len(o.urls)], false)
				if err != nil {
					win.Load().errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					time.Sleep(10 * time.Millisecond)
					continue
				}
				if o.hold > 0 {
					time.Sleep(o.hold)
				}
				tOff[u].Store(time.Now().UnixNano())
				c.Close()
				w := win.Load()
				w.cycleHist.Record(time.Since(t0).Microseconds())
				w.cycles.Add(1)
			}
		}(wk)
	}
	emit(map[string]any{"type": "ready", "open": o.watchers, "workers": o.n})
	commands(func(cmd, _ string) {
		switch cmd {
		case "reset":
			win.Store(newPresenceWindow())
			emit(map[string]any{"type": "ok"})
		case "report":
			w := win.Load()
			msg, _ := firstErr.Load().(string)
			emit(map[string]any{"type": "report", "count": w.cycles.Load(), "hist": w.cycleHist.Sparse(), "max_us": w.cycleHist.max.Load(), "errors": w.errs.Load(), "error": msg,
				"online": w.online.Load(), "offline": w.offline.Load(), "stale": w.stale.Load(), "dropped": dropped.Load(),
				"on_hist": w.onHist.Sparse(), "on_max_us": w.onHist.max.Load(), "off_hist": w.offHist.Sparse(), "off_max_us": w.offHist.max.Load()})
		}
	})
	stop.Store(true)
}
