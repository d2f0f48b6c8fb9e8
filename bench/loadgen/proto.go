package main

// The three wire protocols the benchmark speaks: livegate's native envelope (also spoken by the
// raw uWS ceiling), Socket.IO v4 over a direct websocket, and Centrifugo's JSON protocol.

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// TextWriter sends one text message (a blocking Conn, or a socket owned by an epoll reader).
type TextWriter interface {
	WriteText(payload []byte) error
}

type Proto interface {
	// Path is the request URI of the websocket endpoint.
	Path(token string) string
	// Handshake runs the protocol's session start after the upgrade.
	Handshake(c *Conn, token string) error
	// Join subscribes the connection to a room and waits for the confirmation.
	Join(c *Conn, room string) error
	// Control answers application-level heartbeats; true when the frame was one.
	Control(w TextWriter, frame []byte) bool
	// AppendPublish appends one framed publish of `data` (a JSON object) to `room`.
	AppendPublish(c *Conn, dst []byte, room string, data []byte, id int) []byte
}

func protoByName(name string) (Proto, error) {
	switch name {
	case "native":
		return nativeProto{}, nil
	case "sio":
		return sioProto{}, nil
	case "centrifugo":
		return centrifugoProto{}, nil
	}
	return nil, fmt.Errorf("unknown protocol %q", name)
}

// hasNumber reports whether frame contains key immediately followed by the number n (and no more digits).
func hasNumber(frame []byte, key string, n int) bool {
	needle := append([]byte(key), strconv.Itoa(n)...)
	for i := 0; ; {
		j := bytes.Index(frame[i:], needle)
		if j < 0 {
			return false
		}
		end := i + j + len(needle)
		if end >= len(frame) || frame[end] < '0' || frame[end] > '9' {
			return true
		}
		i = end
	}
}

// awaitFrame reads frames (answering heartbeats) until match says yes or the deadline passes.
func awaitFrame(c *Conn, p Proto, what string, match func([]byte) (bool, error)) error {
	_ = c.nc.SetReadDeadline(time.Now().Add(15 * time.Second))
	defer c.nc.SetReadDeadline(time.Time{})
	for {
		_, f, err := c.ReadFrame()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if p != nil && p.Control(c, f) {
			continue
		}
		ok, err := match(f)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if ok {
			return nil
		}
	}
}

type nativeProto struct{}

// The native join: bench:join {room} by default; -joinevent/-joinkey name another (e.g.
// livestream:join {streamId}) so viewers of a domain room can be driven the same way.
var joinEvent, joinKey = "bench:join", "room"

// readyEvent, when set (-readyevent=session:ready for livegate), is the frame that says the
// server has verified the token: the handshake waits for it, so a connection counts as open only
// once it is authenticated (as Socket.IO's CONNECT and Centrifugo's connect reply already do).
var readyEvent = ""

func (nativeProto) Path(token string) string { return "/ws?token=" + token }
func (p nativeProto) Handshake(c *Conn, _ string) error {
	if readyEvent == "" {
		return nil
	}
	want := []byte(`"event":"` + readyEvent + `"`)
	return awaitFrame(c, p, "ready", func(f []byte) (bool, error) {
		if bytes.Contains(f, []byte(`"error"`)) && !bytes.Contains(f, want) {
			return false, fmt.Errorf("refused: %s", f)
		}
		return bytes.Contains(f, want), nil
	})
}
func (p nativeProto) Join(c *Conn, room string) error {
	if err := c.WriteText([]byte(`{"event":"` + joinEvent + `","id":1,"data":{"` + joinKey + `":"` + room + `"}}`)); err != nil {
		return err
	}
	return awaitFrame(c, p, "join", func(f []byte) (bool, error) {
		if !hasNumber(f, `"ack":`, 1) {
			return false, nil
		}
		if bytes.Contains(f, []byte(`"error"`)) {
			return false, fmt.Errorf("join refused: %s", f)
		}
		return true, nil
	})
}
func (nativeProto) Control(TextWriter, []byte) bool { return false }
func (nativeProto) AppendPublish(c *Conn, dst []byte, room string, data []byte, _ int) []byte {
	msg := make([]byte, 0, 64+len(data))
	msg = append(msg, `{"event":"bench:publish","data":{"room":"`...)
	msg = append(msg, room...)
	msg = append(msg, `","data":`...)
	msg = append(msg, data...)
	msg = append(msg, `}}`...)
	return c.AppendFrame(dst, opText, msg)
}

type sioProto struct{}

func (sioProto) Path(string) string { return "/socket.io/?EIO=4&transport=websocket" }
func (p sioProto) Handshake(c *Conn, token string) error {
	if err := awaitFrame(c, nil, "engine.io open", func(f []byte) (bool, error) { return len(f) > 0 && f[0] == '0', nil }); err != nil {
		return err
	}
	if err := c.WriteText([]byte(`40{"token":"` + token + `"}`)); err != nil {
		return err
	}
	return awaitFrame(c, p, "socket.io connect", func(f []byte) (bool, error) {
		if bytes.HasPrefix(f, []byte("44")) {
			return false, fmt.Errorf("connect_error: %s", f)
		}
		return bytes.HasPrefix(f, []byte("40")), nil
	})
}
func (p sioProto) Join(c *Conn, room string) error {
	if err := c.WriteText([]byte(`421["bench:join",{"room":"` + room + `"}]`)); err != nil {
		return err
	}
	return awaitFrame(c, p, "join", func(f []byte) (bool, error) { return bytes.HasPrefix(f, []byte("431[")), nil })
}
func (sioProto) Control(c TextWriter, f []byte) bool {
	if len(f) == 1 && f[0] == '2' {
		_ = c.WriteText([]byte("3"))
		return true
	}
	return false
}
func (sioProto) AppendPublish(c *Conn, dst []byte, room string, data []byte, _ int) []byte {
	msg := make([]byte, 0, 64+len(data))
	msg = append(msg, `42["bench:publish",{"room":"`...)
	msg = append(msg, room...)
	msg = append(msg, `","data":`...)
	msg = append(msg, data...)
	msg = append(msg, `}]`...)
	return c.AppendFrame(dst, opText, msg)
}

type centrifugoProto struct{}

func (centrifugoProto) Path(string) string { return "/connection/websocket" }
func (p centrifugoProto) Handshake(c *Conn, token string) error {
	if err := c.WriteText([]byte(`{"id":1,"connect":{"token":"` + token + `","name":"bench"}}`)); err != nil {
		return err
	}
	return awaitFrame(c, p, "connect", func(f []byte) (bool, error) {
		if !hasNumber(f, `"id":`, 1) {
			return false, nil
		}
		if bytes.Contains(f, []byte(`"error"`)) {
			return false, fmt.Errorf("connect refused: %s", f)
		}
		return true, nil
	})
}
func (p centrifugoProto) Join(c *Conn, room string) error {
	if err := c.WriteText([]byte(`{"id":2,"subscribe":{"channel":"` + room + `"}}`)); err != nil {
		return err
	}
	return awaitFrame(c, p, "subscribe", func(f []byte) (bool, error) {
		if !hasNumber(f, `"id":`, 2) {
			return false, nil
		}
		if bytes.Contains(f, []byte(`"error"`)) {
			return false, fmt.Errorf("subscribe refused: %s", f)
		}
		return true, nil
	})
}
func (centrifugoProto) Control(c TextWriter, f []byte) bool {
	if len(f) == 2 && f[0] == '{' && f[1] == '}' {
		_ = c.WriteText([]byte("{}"))
		return true
	}
	return false
}
func (centrifugoProto) AppendPublish(c *Conn, dst []byte, room string, data []byte, id int) []byte {
	msg := make([]byte, 0, 64+len(data))
	msg = append(msg, `{"id":`...)
	msg = strconv.AppendInt(msg, int64(id), 10)
	msg = append(msg, `,"publish":{"channel":"`...)
	msg = append(msg, room...)
	msg = append(msg, `","data":`...)
	msg = append(msg, data...)
	msg = append(msg, `}}`...)
	return c.AppendFrame(dst, opText, msg)
}
