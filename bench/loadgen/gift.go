package main

// Gift senders: n native connections (users b<offset+i>) send gift:send {giftId, quantity 1,
// livestreamId} at a paced total rate, each connection with at most -window requests awaiting
// their ack (a tick skips a connection that is full; what a tick could not send is not made up).
// Acks are matched by id: ok acks count as accepted and their send-to-ack time goes to the
// histogram; error acks are counted with the first error's text.

import (
	"bytes"
	"strconv"
	"sync/atomic"
	"time"
)

// giftConn waits for acks keyed by request id, keeping each request's send time (ns).
type giftConn = requester[int64]

var ackKey = []byte(`"ack":`)
var errorKey = []byte(`"error"`)

func runGift(o options) {
	p := nativeProto{}
	conns, failed, firstErr := openAll(o, p, o.n, func(i int) string { return o.urls[i%len(o.urls)] }, false)
	if len(conns) == 0 {
		fatal("no sender connection: %s", firstErr)
	}
	var hist atomic.Pointer[Hist]
	hist.Store(&Hist{})
	var sent, skipped, ok, errs, okTotal, errTotal atomic.Int64
	var lastErr atomic.Value
	senders := make([]*giftConn, len(conns))
	for k, c := range conns {
		g := newRequester[int64](c, 0)
		senders[k] = g
		go func() {
			for {
				_, f, err := g.c.ReadFrame()
				if err != nil {
					return
				}
				i := bytes.Index(f, ackKey)
				if i < 0 {
					continue
				}
				id, _ := readInt(f, i+len(ackKey))
				now := time.Now().UnixNano()
				t0, found := g.take(id)
				if !found {
					continue
				}
				if bytes.Contains(f, errorKey) {
					errs.Add(1)
					errTotal.Add(1)
					lastErr.Store(string(f))
					continue
				}
				ok.Add(1)
				okTotal.Add(1)
				hist.Load().Record((now - t0) / 1000)
			}
		}()
	}
	// Keys unique per process run: a replayed key would be answered from the idempotency record.
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var rate atomic.Int64
	go pace(&rate, burst20ms, func(from, due int64) {
		ts := time.Now().UnixNano()
		for k := int64(0); k < due; k++ {
			seq := from + k + 1
			sentOne := false
			for tries := 0; tries < len(senders) && !sentOne; tries++ {
				cand := senders[int(seq+int64(tries))%len(senders)]
				sentOne = cand.send(o.window, ts, func(dst []byte, id int64) []byte {
					return p.appendGift(cand.c, dst, id, o.gift, o.stream, run, seq)
				})
			}
			if !sentOne {
				skipped.Add(1)
				continue
			}
			sent.Add(1)
		}
		for _, g := range senders {
			if err := g.flush(); err != nil {
				errs.Add(1)
			}
		}
	})
	emit(map[string]any{"type": "ready", "open": len(conns), "failed": failed, "error": firstErr})
	commands(func(cmd, arg string) {
		switch cmd {
		case "rate":
			setRate(&rate, arg)
		case "reset":
			hist.Store(&Hist{})
			sent.Store(0)
			skipped.Store(0)
			ok.Store(0)
			errs.Store(0)
			emit(map[string]any{"type": "ok"})
		case "report":
			h := hist.Load()
			waiting := 0
			for _, g := range senders {
				waiting += g.pending()
			}
			msg, _ := lastErr.Load().(string)
			emit(map[string]any{"type": "report", "sent": sent.Load(), "skipped": skipped.Load(), "count": ok.Load(), "errors": errs.Load(), "error": msg,
				"hist": h.Sparse(), "max_us": h.max.Load(), "ok_total": okTotal.Load(), "errors_total": errTotal.Load(), "waiting": waiting})
		}
	})
}

// appendGift appends one framed gift:send request.
func (nativeProto) appendGift(c *Conn, dst []byte, id int64, gift, stream, run string, seq int64) []byte {
	msg := make([]byte, 0, 160)
	msg = append(msg, `{"event":"gift:send","id":`...)
	msg = strconv.AppendInt(msg, id, 10)
	msg = append(msg, `,"data":{"giftId":"`...)
	msg = append(msg, gift...)
	msg = append(msg, `","quantity":1,"livestreamId":"`...)
	msg = append(msg, stream...)
	msg = append(msg, `","idempotencyKey":"bench-`...)
	msg = append(msg, run...)
	msg = append(msg, '-')
	msg = strconv.AppendInt(msg, seq, 36)
	msg = append(msg, `"}}`...)
	return c.AppendFrame(dst, opText, msg)
}
