package main

// Subscriber sockets are read by a few epoll loops (one per core) instead of one goroutine each:
// a wake-up then costs one read(2), not a goroutine switch, which keeps the client's CPU per
// delivery low when every socket receives a message or two per millisecond.

import (
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

type pconn struct {
	fd      int
	pending []byte
	mask    uint32
}

// WriteText sends a heartbeat answer; these are tiny, so a short write is not retried.
func (pc *pconn) WriteText(payload []byte) error {
	_, err := syscall.Write(pc.fd, appendFrame(nil, opText, payload, &pc.mask))
	return err
}

type epollReaders struct {
	workers    []*epollWorker
	proto      Proto
	countGifts bool
	dropped    *atomic.Int64
	quitting   *atomic.Bool
	// poll is the least time between two wake-ups of a worker: frames pile up in the socket
	// buffers meanwhile, so one read(2) (and the ACK the kernel sends for it) serves several.
	poll time.Duration
}

// Each worker records into its own histogram under its own lock (taken once per wake-up), so
// the loops never share a cache line; reports merge the workers' histograms.
type epollWorker struct {
	r     *epollReaders
	epfd  int
	conns map[int]*pconn
	adds  chan *pconn
	buf   []byte
	mu    sync.Mutex
	hist  *LocalHist
}

func newEpollReaders(p Proto, countGifts bool, poll time.Duration, dropped *atomic.Int64, quitting *atomic.Bool) (*epollReaders, error) {
	r := &epollReaders{proto: p, countGifts: countGifts, poll: poll, dropped: dropped, quitting: quitting}
	for i := 0; i < runtime.GOMAXPROCS(0); i++ {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return nil, err
		}
		w := &epollWorker{r: r, epfd: epfd, conns: map[int]*pconn{}, adds: make(chan *pconn, 1024), buf: make([]byte, 256*1024), hist: &LocalHist{}}
		r.workers = append(r.workers, w)
		go w.loop()
	}
	return r, nil
}

// Snapshot merges the workers' histograms and counters.
func (r *epollReaders) Snapshot() (*Hist, LocalHist) {
	out := &Hist{}
	var counts LocalHist
	for _, w := range r.workers {
		w.mu.Lock()
		w.hist.AddTo(out)
		counts.frames += w.hist.frames
		counts.giftFrames += w.hist.giftFrames
		counts.giftSends += w.hist.giftSends
		w.mu.Unlock()
	}
	return out, counts
}

// Reset starts a new measurement window.
func (r *epollReaders) Reset() {
	for _, w := range r.workers {
		w.mu.Lock()
		w.hist = &LocalHist{}
		w.mu.Unlock()
	}
}

// Add takes over a connection after its handshake.
func (r *epollReaders) Add(c *Conn, i int) error {
	fd, leftover, err := c.Detach()
	if err != nil {
		return err
	}
	pc := &pconn{fd: fd, pending: leftover, mask: c.mask}
	w := r.workers[i%len(r.workers)]
	w.adds <- pc
	return nil
}

func (w *epollWorker) register(pc *pconn) {
	w.conns[pc.fd] = pc
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(pc.fd)}
	if err := syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_ADD, pc.fd, &ev); err != nil {
		w.drop(pc)
	}
}

func (w *epollWorker) drop(pc *pconn) {
	_ = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_DEL, pc.fd, nil)
	_ = syscall.Close(pc.fd)
	delete(w.conns, pc.fd)
	if !w.r.quitting.Load() {
		w.r.dropped.Add(1)
	}
}

func (w *epollWorker) loop() {
	events := make([]syscall.EpollEvent, 512)
	for {
		for pending := true; pending; {
			select {
			case pc := <-w.adds:
				w.register(pc)
			default:
				pending = false
			}
		}
		n, err := syscall.EpollWait(w.epfd, events, 50)
		if err != nil && err != syscall.EINTR {
			return
		}
		now := time.Now().UnixNano()
		w.mu.Lock()
		for k := 0; k < n; k++ {
			if pc := w.conns[int(events[k].Fd)]; pc != nil {
				w.read(pc, now)
			}
		}
		w.mu.Unlock()
		if w.r.poll > 0 {
			if rest := w.r.poll - time.Duration(time.Now().UnixNano()-now); rest > 0 {
				time.Sleep(rest)
			}
		}
	}
}

// rawRead is read(2) without telling the Go scheduler: the descriptor is non-blocking, so the
// call never blocks, and skipping entersyscall/exitsyscall saves a good part of a read's cost
// when every socket is read once per wake-up.
func rawRead(fd int, b []byte) (int, error) {
	r, _, errno := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

func (w *epollWorker) read(pc *pconn, now int64) {
	if len(pc.pending)*2 > len(w.buf) {
		w.buf = make([]byte, len(pc.pending)*4)
	}
	start := copy(w.buf, pc.pending)
	n, err := rawRead(pc.fd, w.buf[start:])
	if n <= 0 {
		if err == syscall.EAGAIN || err == syscall.EINTR {
			return
		}
		w.drop(pc)
		return
	}
	total := start + n
	used, closed := w.parse(pc, w.buf[:total], now)
	if closed {
		w.drop(pc)
		return
	}
	pc.pending = append(pc.pending[:0], w.buf[used:total]...)
}

// parse handles every complete frame in b and returns how many bytes it used. Fragments are
// scanned one by one (the servers under test do not fragment messages this small).
func (w *epollWorker) parse(pc *pconn, b []byte, now int64) (int, bool) {
	h := w.hist
	i := 0
	for len(b)-i >= 2 {
		b0, b1 := b[i], b[i+1]
		op := b0 & 0x0f
		n := int(b1 & 0x7f)
		hdr := 2
		switch n {
		case 126:
			if len(b)-i < 4 {
				return i, false
			}
			n = int(binary.BigEndian.Uint16(b[i+2:]))
			hdr = 4
		case 127:
			if len(b)-i < 10 {
				return i, false
			}
			n = int(binary.BigEndian.Uint64(b[i+2:]))
			hdr = 10
		}
		if b1&0x80 != 0 {
			hdr += 4
		}
		if len(b)-i < hdr+n {
			return i, false
		}
		p := b[i+hdr : i+hdr+n]
		i += hdr + n
		switch op {
		case opPing:
			_, _ = syscall.Write(pc.fd, appendFrame(nil, opPong, p, &pc.mask))
		case opPong:
		case opClose:
			return i, true
		default:
			if !w.r.proto.Control(pc, p) {
				h.frames++
				scanLatencies(p, now, h)
				if w.r.countGifts {
					countGift(p, h)
				}
			}
		}
	}
	return i, false
}
