package main

// Chat: n native connections (users b<offset+k>) in conversations set up beforehand (file -convs,
// JSON [{"id": conversationId, "members": [k...], "senders": [k...]}], k = connection index in
// this process). Every connection both sends and receives. message:send requests are paced at
// a total rate over the (sender, conversation) slots, each connection with at most -window
// requests awaiting their ack (a tick skips a full connection; what it could not send is not
// made up). The text carries the send time and the sender ("@bt<unix ns>@s<k>"): receivers
// record send -> message:new (their own echo excluded), senders send -> ack. With -view each
// connection marks its first conversation as viewed (conversation:view), so no notification is
// raised for it.

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

type chatConv struct {
	ID      string `json:"id"`
	Members []int  `json:"members"`
	Senders []int  `json:"senders"`
}

type chatSlot struct {
	conn int
	conv *chatConv
}

// chatConn is user b<offset+k>'s connection.
type chatConn struct {
	*requester[chatWait]
	k int
}

type chatWait struct {
	t0        int64
	receivers int64
}

var (
	newMsgKey = []byte(`"event":"message:new"`)
	btMark    = []byte(`@bt`)
	senderTag = []byte(`@s`)
)

// chatCounters are one window's figures (reset by "reset") and the run's totals.
type chatCounters struct {
	sent, skipped, ok, errs, delivered, expected, frames, bytes atomic.Int64
}

func runChat(o options, convFile string, view bool) {
	p := nativeProto{}
	raw, err := os.ReadFile(convFile)
	if err != nil {
		fatal("convs: %v", err)
	}
	var convs []chatConv
	if err := json.Unmarshal(raw, &convs); err != nil {
		fatal("convs: %v", err)
	}
	conns, failed, firstErr := openEach(o, p, o.n, func(i int) string { return o.urls[(i-o.offset)%len(o.urls)] }, false)
	if failed > 0 {
		fatal("%d chat connections failed: %s", failed, firstErr)
	}
	cs := make([]*chatConn, len(conns))
	for k, c := range conns {
		cs[k] = &chatConn{requester: newRequester[chatWait](c, 1000), k: k} // ids below 1000: setup requests
	}
	var slots []chatSlot
	viewed := map[int]bool{}
	for i := range convs {
		cv := &convs[i]
		for _, s := range cv.Senders {
			slots = append(slots, chatSlot{conn: s, conv: cv})
		}
		if view {
			for _, m := range cv.Members {
				if !viewed[m] {
					viewed[m] = true
					if err := cs[m].c.WriteText([]byte(`{"event":"conversation:view","id":1,"data":{"conversationId":"` + cv.ID + `"}}`)); err != nil {
						fatal("view: %v", err)
					}
				}
			}
		}
	}
	if len(slots) == 0 {
		fatal("no sender slots")
	}
	// Interleave the slots so consecutive sends go to different conversations and connections.
	var ackHist, delHist atomic.Pointer[Hist]
	ackHist.Store(&Hist{})
	delHist.Store(&Hist{})
	var win, total chatCounters
	var lastErr atomic.Value
	var dropped atomic.Int64
	for _, g := range cs {
		go func(g *chatConn) {
			me := int64(g.k)
			for {
				_, f, err := g.c.ReadFrame()
				if err != nil {
					dropped.Add(1)
					return
				}
				now := time.Now().UnixNano()
				win.frames.Add(1)
				win.bytes.Add(int64(len(f)))
				if bytes.Contains(f, newMsgKey) {
					i := bytes.Index(f, btMark)
					if i < 0 {
						continue
					}
					t0, j := readInt(f, i+len(btMark))
					if !bytes.HasPrefix(f[j:], senderTag) {
						continue
					}
					s, _ := readInt(f, j+len(senderTag))
					if s == me {
						continue // the sender's own copy
					}
					delHist.Load().Record((now - t0) / 1000)
					win.delivered.Add(1)
					total.delivered.Add(1)
					continue
				}
				i := bytes.Index(f, ackKey)
				if i < 0 || i > 2 {
					continue
				}
				id, _ := readInt(f, i+len(ackKey))
				w, found := g.take(id)
				if !found {
					continue
				}
				if bytes.Contains(f, errorKey) {
					win.errs.Add(1)
					total.errs.Add(1)
					lastErr.Store(string(f))
					continue
				}
				win.ok.Add(1)
				total.ok.Add(1)
				win.expected.Add(w.receivers)
				total.expected.Add(w.receivers)
				ackHist.Load().Record((now - w.t0) / 1000)
			}
		}(g)
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var rate atomic.Int64
	go pace(&rate, func(r int64) int64 { return r/4 + 1 }, func(from, due int64) {
		for k := int64(0); k < due; k++ {
			seq := from + k + 1
			sentOne := false
			for tries := 0; tries < len(slots) && !sentOne; tries++ {
				sl := slots[int(seq+int64(tries))%len(slots)]
				g := cs[sl.conn]
				ts := time.Now().UnixNano()
				sentOne = g.send(o.window, chatWait{t0: ts, receivers: int64(len(sl.conv.Members) - 1)}, func(dst []byte, id int64) []byte {
					return appendChatSend(g.c, dst, id, sl.conv.ID, run, seq, ts, g.k)
				})
			}
			if !sentOne {
				win.skipped.Add(1)
				continue
			}
			win.sent.Add(1)
			total.sent.Add(1)
		}
		for _, g := range cs {
			if err := g.flush(); err != nil {
				win.errs.Add(1)
			}
		}
	})
	emit(map[string]any{"type": "ready", "open": len(conns), "failed": failed, "error": firstErr, "slots": len(slots)})
	commands(func(cmd, arg string) {
		switch cmd {
		case "rate":
			setRate(&rate, arg)
		case "reset":
			ackHist.Store(&Hist{})
			delHist.Store(&Hist{})
			for _, c := range []*atomic.Int64{&win.sent, &win.skipped, &win.ok, &win.errs, &win.delivered, &win.expected, &win.frames, &win.bytes} {
				c.Store(0)
			}
			emit(map[string]any{"type": "ok"})
		case "report":
			a, d := ackHist.Load(), delHist.Load()
			waiting := 0
			for _, g := range cs {
				waiting += g.pending()
			}
			msg, _ := lastErr.Load().(string)
			emit(map[string]any{"type": "report", "sent": win.sent.Load(), "skipped": win.skipped.Load(), "count": win.ok.Load(), "errors": win.errs.Load(), "error": msg,
				"hist": a.Sparse(), "max_us": a.max.Load(), "delivered": win.delivered.Load(), "expected": win.expected.Load(), "dhist": d.Sparse(), "dmax_us": d.max.Load(),
				"frames": win.frames.Load(), "bytes": win.bytes.Load(), "dropped": dropped.Load(),
				"ok_total": total.ok.Load(), "errors_total": total.errs.Load(), "sent_total": total.sent.Load(), "delivered_total": total.delivered.Load(), "expected_total": total.expected.Load(), "waiting": waiting})
		}
	})
}

// readInt parses the decimal digits at f[i:]; returns the value and the index after them.
func readInt(f []byte, i int) (int64, int) {
	var v int64
	for ; i < len(f) && f[i] >= '0' && f[i] <= '9'; i++ {
		v = v*10 + int64(f[i]-'0')
	}
	return v, i
}

// appendChatSend appends one framed message:send request.
func appendChatSend(c *Conn, dst []byte, id int64, conv, run string, seq, ts int64, k int) []byte {
	msg := make([]byte, 0, 200)
	msg = append(msg, `{"event":"message:send","id":`...)
	msg = strconv.AppendInt(msg, id, 10)
	msg = append(msg, `,"data":{"conversationId":"`...)
	msg = append(msg, conv...)
	msg = append(msg, `","type":"text","clientId":"`...)
	msg = append(msg, run...)
	msg = append(msg, '-')
	msg = strconv.AppendInt(msg, seq, 36)
	msg = append(msg, `","text":"@bt`...)
	msg = strconv.AppendInt(msg, ts, 10)
	msg = append(msg, `@s`...)
	msg = strconv.AppendInt(msg, int64(k), 10)
	msg = append(msg, ` hello, how are you?"}}`...)
	return c.AppendFrame(dst, opText, msg)
}
