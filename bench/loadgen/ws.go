package main

// A minimal WebSocket client (RFC 6455) for load generation: no compression, no allocation
// per received frame, batched writes. Only what the benchmark needs; never a general client.

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	opCont  = 0x0
	opText  = 0x1
	opBin   = 0x2
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xa
)

// Conn is one client WebSocket. Reads happen on one goroutine; writes are serialised by wmu.
type Conn struct {
	nc   net.Conn
	br   *bufio.Reader
	wmu  sync.Mutex
	frag []byte
	big  []byte
	hdr  [14]byte
	mask uint32
}

var errClosed = errors.New("websocket closed by server")

// Dial opens a TCP connection from `local` (nil: any) and performs the upgrade handshake.
func Dial(rawURL string, local net.IP, readBuf int, timeout time.Duration) (*Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: timeout}
	if local != nil {
		d.LocalAddr = &net.TCPAddr{IP: local}
	}
	nc, err := d.Dial("tcp", u.Host)
	if err != nil {
		return nil, err
	}
	var keyBytes [16]byte
	_, _ = rand.Read(keyBytes[:])
	key := base64.StdEncoding.EncodeToString(keyBytes[:])
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	_ = nc.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(nc, req); err != nil {
		nc.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(nc, readBuf)
	status, err := br.ReadString('\n')
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("upgrade: %w", err)
	}
	if !strings.Contains(status, " 101 ") {
		nc.Close()
		return nil, fmt.Errorf("upgrade refused: %s", strings.TrimSpace(status))
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("upgrade headers: %w", err)
		}
		if line == "\r\n" {
			break
		}
	}
	_ = nc.SetDeadline(time.Time{})
	return &Conn{nc: nc, br: br, mask: uint32(time.Now().UnixNano()) | 1}, nil
}

func (c *Conn) readN(n int) ([]byte, error) {
	if n <= c.br.Size() {
		b, err := c.br.Peek(n)
		if err != nil {
			return nil, err
		}
		_, _ = c.br.Discard(n)
		return b, nil
	}
	if cap(c.big) < n {
		c.big = make([]byte, n)
	}
	c.big = c.big[:n]
	_, err := io.ReadFull(c.br, c.big)
	return c.big, err
}

// ReadFrame returns the next data message. The payload is valid until the next call.
// Pings are answered here; a close frame ends the connection.
func (c *Conn) ReadFrame() (byte, []byte, error) {
	for {
		h, err := c.readN(2)
		if err != nil {
			return 0, nil, err
		}
		b0, b1 := h[0], h[1]
		fin := b0&0x80 != 0
		op := b0 & 0x0f
		n := int(b1 & 0x7f)
		masked := b1&0x80 != 0
		switch n {
		case 126:
			e, err := c.readN(2)
			if err != nil {
				return 0, nil, err
			}
			n = int(binary.BigEndian.Uint16(e))
		case 127:
			e, err := c.readN(8)
			if err != nil {
				return 0, nil, err
			}
			n = int(binary.BigEndian.Uint64(e))
		}
		var key [4]byte
		if masked {
			k, err := c.readN(4)
			if err != nil {
				return 0, nil, err
			}
			copy(key[:], k)
		}
		p, err := c.readN(n)
		if err != nil {
			return 0, nil, err
		}
		if masked {
			for i := range p {
				p[i] ^= key[i&3]
			}
		}
		switch op {
		case opPing:
			pong := append([]byte(nil), p...)
			if err := c.Write(c.AppendFrame(nil, opPong, pong)); err != nil {
				return 0, nil, err
			}
			continue
		case opPong:
			continue
		case opClose:
			return opClose, nil, errClosed
		}
		if !fin || op == opCont {
			c.frag = append(c.frag, p...)
			if !fin {
				continue
			}
			out := c.frag
			c.frag = c.frag[:0]
			return opText, out, nil
		}
		return op, p, nil
	}
}

// AppendFrame appends one masked client frame to dst.
func (c *Conn) AppendFrame(dst []byte, op byte, payload []byte) []byte {
	return appendFrame(dst, op, payload, &c.mask)
}

// appendFrame appends one masked client frame; mask is the xorshift state of the connection
// (masking keys only need to vary, not to be secret, for a load generator).
func appendFrame(dst []byte, op byte, payload []byte, mask *uint32) []byte {
	n := len(payload)
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		dst = append(dst, 0x80|byte(n))
	case n < 65536:
		dst = append(dst, 0x80|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	m := *mask
	m ^= m << 13
	m ^= m >> 17
	m ^= m << 5
	*mask = m
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], m)
	dst = append(dst, key[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	for i := range payload {
		dst[start+i] ^= key[i&3]
	}
	return dst
}

// Write sends already framed bytes (one or more frames) in one call.
func (c *Conn) Write(frames []byte) error {
	c.wmu.Lock()
	_, err := c.nc.Write(frames)
	c.wmu.Unlock()
	return err
}

// WriteText frames and sends one text message.
func (c *Conn) WriteText(payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.nc.Write(c.AppendFrame(nil, opText, payload))
	return err
}

// Detach hands the socket over to an epoll reader: a non-blocking duplicate of its descriptor and
// whatever bytes the handshake reader had already buffered. The Conn must not be used afterwards.
func (c *Conn) Detach() (int, []byte, error) {
	leftover, _ := c.br.Peek(c.br.Buffered())
	leftover = append([]byte(nil), leftover...)
	tcp, ok := c.nc.(*net.TCPConn)
	if !ok {
		return -1, nil, errors.New("not a TCP connection")
	}
	raw, err := tcp.SyscallConn()
	if err != nil {
		return -1, nil, err
	}
	fd := -1
	var dupErr error
	if err := raw.Control(func(s uintptr) { fd, dupErr = syscall.Dup(int(s)) }); err != nil {
		return -1, nil, err
	}
	if dupErr != nil {
		return -1, nil, dupErr
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return -1, nil, err
	}
	_ = c.nc.Close() // the duplicate keeps the socket open
	return fd, leftover, nil
}

// Close sends a close frame (1000) and closes the socket.
func (c *Conn) Close() {
	c.wmu.Lock()
	_, _ = c.nc.Write(c.AppendFrame(nil, opClose, []byte{0x03, 0xe8}))
	c.wmu.Unlock()
	_ = c.nc.Close()
}
