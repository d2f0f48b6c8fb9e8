// Command loadgen is livegate's benchmark client: subscribers, publishers and connection churn
// over livegate's native protocol, Socket.IO v4 and Centrifugo, driven by line commands on stdin
// (reset, report, rate <msgs/s>, quit) and answering with JSON lines on stdout.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	mode, proto, token, prefix string
	secret                     string
	urls                       []string
	n, offset, rooms, src      int
	conc, readBuf, payload     int
	poll                       time.Duration
	join, countGifts           bool
	// gift mode
	gift, stream string
	window       int
	layout       string
	// chat mode
	convs string
	view  bool
	// presence mode
	watchers, users, follow int
	watchURLs               []string
	hold                    time.Duration
}

var out = struct {
	sync.Mutex
	enc *json.Encoder
}{enc: json.NewEncoder(os.Stdout)}

func emit(v map[string]any) {
	out.Lock()
	_ = out.enc.Encode(v)
	out.Unlock()
}

func fatal(format string, args ...any) {
	emit(map[string]any{"type": "fatal", "error": fmt.Sprintf(format, args...)})
	os.Exit(1)
}

func main() {
	var o options
	var urls string
	flag.StringVar(&o.mode, "mode", "sub", "sub | pub | churn")
	flag.StringVar(&o.proto, "proto", "native", "native | sio | centrifugo")
	flag.StringVar(&urls, "urls", "", "comma list of ws://host:port bases (connections spread over them)")
	flag.StringVar(&o.token, "token", "", "JWT for every connection (or -secret)")
	flag.StringVar(&o.secret, "secret", "", "HS256 secret: each connection i gets its own token for user b<i>")
	flag.StringVar(&o.prefix, "prefix", "bench", "room name prefix")
	flag.IntVar(&o.n, "n", 1, "connections (sub, pub) or concurrent workers (churn)")
	flag.IntVar(&o.offset, "offset", 0, "global index of this process's first connection (room/node assignment)")
	flag.IntVar(&o.rooms, "rooms", 1, "number of rooms; connection i joins room i%rooms on node (i/rooms)%nodes")
	flag.IntVar(&o.src, "src", 8, "source addresses 127.0.0.1..N to spread connections over (ephemeral ports)")
	flag.IntVar(&o.conc, "conc", 64, "connections opened concurrently during setup")
	flag.IntVar(&o.readBuf, "readbuf", 16384, "read buffer per connection")
	flag.DurationVar(&o.poll, "poll", 0, "sub: least time between two reads of a socket (batches frames per read)")
	flag.IntVar(&o.payload, "payload", 64, "padding bytes in each published message")
	flag.BoolVar(&o.join, "join", true, "sub: join a room after connecting (false: idle connections)")
	flag.StringVar(&joinEvent, "joinevent", joinEvent, "native: the event that joins a room")
	flag.StringVar(&joinKey, "joinkey", joinKey, "native: the data field of the join event that names the room")
	flag.StringVar(&readyEvent, "readyevent", readyEvent, "native: wait for this server event after connecting (livegate: session:ready)")
	flag.StringVar(&o.layout, "layout", "spread", "sub: spread (a room's subscribers alternate nodes) | room (a room's subscribers on one node)")
	flag.BoolVar(&o.countGifts, "countgifts", false, "sub: count gift:sent frames and the sends they fold in")
	flag.StringVar(&o.gift, "gift", "heart", "gift: the gift id every gift:send sends")
	flag.StringVar(&o.stream, "stream", "", "gift: the livestream the gifts go to")
	flag.IntVar(&o.window, "window", 16, "gift: most requests a sender connection has waiting for their ack")
	flag.StringVar(&o.convs, "convs", "", "chat: JSON file of conversations [{id, members: [k], senders: [k]}] (k = connection index)")
	flag.BoolVar(&o.view, "view", false, "chat: each connection views its first conversation (no notifications for it)")
	flag.IntVar(&o.watchers, "watchers", 10, "presence: watcher connections (users b<offset+users+j>)")
	flag.IntVar(&o.users, "users", 400, "presence: churning users b<offset..offset+users>, cycled by -n workers")
	var watchURLs string
	flag.StringVar(&watchURLs, "watchurls", "", "presence: where the watchers connect (default -urls)")
	flag.DurationVar(&o.hold, "hold", 0, "presence: how long a churning user stays connected after session:ready")
	flag.Parse()
	if watchURLs != "" {
		o.watchURLs = strings.Split(watchURLs, ",")
	}
	o.urls = strings.Split(urls, ",")
	if urls == "" {
		fatal("-urls is required")
	}
	proto, err := protoByName(o.proto)
	if err != nil {
		fatal("%v", err)
	}
	switch o.mode {
	case "sub":
		runSub(o, proto)
	case "pub":
		runPub(o, proto)
	case "churn":
		runChurn(o, proto)
	case "gift":
		runGift(o)
	case "chat":
		runChat(o, o.convs, o.view)
	case "presence":
		runPresence(o)
	default:
		fatal("unknown mode %q", o.mode)
	}
}

func sourceIP(o options, i int) net.IP {
	if o.src <= 1 {
		return nil
	}
	return net.IPv4(127, 0, 0, byte(1+i%o.src))
}

func room(o options, i int) string { return o.prefix + strconv.Itoa(i%o.rooms) }

// nodeURL: with -layout=spread (default) the subscribers of each room alternate between the
// nodes; with -layout=room all subscribers of a room are on one node (room r on node r%nodes), the
// case where a per-room bus subscription spares the other nodes.
func nodeURL(o options, i int) string {
	if o.layout == "room" {
		return o.urls[(i%o.rooms)%len(o.urls)]
	}
	return o.urls[(i/o.rooms)%len(o.urls)]
}

// open dials, runs the protocol handshake and (optionally) joins the room of connection i.
func open(o options, p Proto, i int, base string, join bool) (*Conn, error) {
	token := o.token
	if o.secret != "" {
		token = signToken(o.secret, "b"+strconv.Itoa(i))
	}
	c, err := Dial(base+p.Path(token), sourceIP(o, i), o.readBuf, 15*time.Second)
	if err != nil {
		return nil, err
	}
	if err := p.Handshake(c, token); err != nil {
		c.nc.Close()
		return nil, err
	}
	if join {
		if err := p.Join(c, room(o, i)); err != nil {
			c.nc.Close()
			return nil, err
		}
	}
	return c, nil
}

// openAll opens n connections with bounded concurrency; returns the open ones and the first error.
func openAll(o options, p Proto, n int, url func(i int) string, join bool) ([]*Conn, int, string) {
	conns, failed, msg := openEach(o, p, n, url, join)
	open := conns[:0]
	for _, c := range conns {
		if c != nil {
			open = append(open, c)
		}
	}
	return open, failed, msg
}

// openEach opens n connections (users b<offset+k>) with bounded concurrency, keeping their order:
// conns[k] is user b<offset+k>, nil if it failed. Returns the failures and the first error.
func openEach(o options, p Proto, n int, url func(i int) string, join bool) ([]*Conn, int, string) {
	conns := make([]*Conn, n)
	sem := make(chan struct{}, o.conc)
	var wg sync.WaitGroup
	var failed atomic.Int64
	var firstErr atomic.Value
	for k := 0; k < n; k++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(k int) {
			defer func() { <-sem; wg.Done() }()
			i := o.offset + k
			c, err := open(o, p, i, url(i), join)
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
				return
			}
			conns[k] = c
		}(k)
	}
	wg.Wait()
	msg, _ := firstErr.Load().(string)
	return conns, int(failed.Load()), msg
}

// commands reads stdin lines and hands them to handle until "quit" or EOF.
func commands(handle func(cmd string, arg string)) {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if fields[0] == "quit" {
			break
		}
		arg := ""
		if len(fields) > 1 {
			arg = fields[1]
		}
		handle(fields[0], arg)
	}
	os.Exit(0)
}

func runSub(o options, p Proto) {
	var dropped atomic.Int64
	var quitting atomic.Bool
	started := time.Now()
	conns, failed, firstErr := openAll(o, p, o.n, func(i int) string { return nodeURL(o, i) }, o.join)
	readers, err := newEpollReaders(p, o.countGifts, o.poll, &dropped, &quitting)
	if err != nil {
		fatal("epoll: %v", err)
	}
	for k, c := range conns {
		if err := readers.Add(c, k); err != nil {
			fatal("detach: %v", err)
		}
	}
	emit(map[string]any{"type": "ready", "open": len(conns), "failed": failed, "error": firstErr, "setup_ms": time.Since(started).Milliseconds()})
	commands(func(cmd, _ string) {
		switch cmd {
		case "reset":
			readers.Reset()
			emit(map[string]any{"type": "ok"})
		case "report":
			h, c := readers.Snapshot()
			emit(map[string]any{"type": "report", "count": h.count.Load(), "hist": h.Sparse(), "max_us": h.max.Load(), "dropped": dropped.Load(),
				"frames": c.frames, "gift_frames": c.giftFrames, "gift_sends": c.giftSends})
		}
	})
	quitting.Store(true)
}

func runPub(o options, p Proto) {
	conns, failed, firstErr := openAll(o, p, o.n, func(i int) string { return o.urls[i%len(o.urls)] }, false)
	if len(conns) == 0 {
		fatal("no publisher connection: %s", firstErr)
	}
	for _, c := range conns {
		go func(c *Conn) { // acks, publish replies, heartbeats: answered and discarded
			for {
				_, f, err := c.ReadFrame()
				if err != nil {
					return
				}
				p.Control(c, f)
			}
		}(c)
	}
	var rate atomic.Int64
	var sent, errs atomic.Int64
	pad := strings.Repeat("x", o.payload)
	bufs := make([][]byte, len(conns))
	id := 100
	go pace(&rate, burst20ms, func(from, due int64) {
		for k := int64(0); k < due; k++ {
			seq := from + k
			ci := int(seq % int64(len(conns)))
			data := make([]byte, 0, 48+len(pad))
			data = append(data, `{"bt":`...)
			data = strconv.AppendInt(data, time.Now().UnixNano(), 10)
			data = append(data, `,"p":"`...)
			data = append(data, pad...)
			data = append(data, `"}`...)
			id++
			bufs[ci] = p.AppendPublish(conns[ci], bufs[ci], o.prefix+strconv.FormatInt(seq%int64(o.rooms), 10), data, id)
		}
		for ci, b := range bufs {
			if len(b) == 0 {
				continue
			}
			if err := conns[ci].Write(b); err != nil {
				errs.Add(1)
			}
			bufs[ci] = b[:0]
		}
		sent.Store(from + max(due, 0))
	})
	emit(map[string]any{"type": "ready", "open": len(conns), "failed": failed, "error": firstErr})
	var sentAtReset int64
	commands(func(cmd, arg string) {
		switch cmd {
		case "rate":
			setRate(&rate, arg)
		case "reset":
			sentAtReset = sent.Load()
			emit(map[string]any{"type": "ok"})
		case "report":
			emit(map[string]any{"type": "report", "sent": sent.Load() - sentAtReset, "errors": errs.Load()})
		}
	})
}

func runChurn(o options, p Proto) {
	var hist atomic.Pointer[Hist]
	hist.Store(&Hist{})
	var errs atomic.Int64
	var firstErr atomic.Value
	var stop atomic.Bool
	var counter atomic.Int64
	for w := 0; w < o.n; w++ {
		go func() {
			for !stop.Load() {
				i := int(counter.Add(1))
				t0 := time.Now()
				c, err := open(o, p, i, o.urls[i%len(o.urls)], false)
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					time.Sleep(10 * time.Millisecond)
					continue
				}
				c.Close()
				hist.Load().Record(time.Since(t0).Microseconds())
			}
		}()
	}
	emit(map[string]any{"type": "ready", "open": o.n})
	commands(func(cmd, _ string) {
		switch cmd {
		case "reset":
			hist.Store(&Hist{})
			errs.Store(0)
			emit(map[string]any{"type": "ok"})
		case "report":
			h := hist.Load()
			msg, _ := firstErr.Load().(string)
			emit(map[string]any{"type": "report", "count": h.count.Load(), "hist": h.Sparse(), "max_us": h.max.Load(), "errors": errs.Load(), "error": msg})
		}
	})
	stop.Store(true)
}
