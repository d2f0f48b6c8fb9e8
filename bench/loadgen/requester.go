package main

import "sync"

// requester is one connection of the gift and chat modes: requests it sent that wait for their
// ack (V: what the mode keeps per request) and the frames queued since the last flush.
type requester[V any] struct {
	c       *Conn
	mu      sync.Mutex
	waiting map[int64]V
	nextID  int64
	buf     []byte
}

func newRequester[V any](c *Conn, firstID int64) *requester[V] {
	return &requester[V]{c: c, waiting: map[int64]V{}, nextID: firstID}
}

// send queues one request unless `window` requests already wait for their ack; appendReq frames
// it with its id.
func (r *requester[V]) send(window int, v V, appendReq func(dst []byte, id int64) []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.waiting) >= window {
		return false
	}
	r.nextID++
	r.waiting[r.nextID] = v
	r.buf = appendReq(r.buf, r.nextID)
	return true
}

// take removes the request an ack answers; false when it is not one of ours.
func (r *requester[V]) take(id int64) (V, bool) {
	r.mu.Lock()
	v, found := r.waiting[id]
	delete(r.waiting, id)
	r.mu.Unlock()
	return v, found
}

// flush writes the frames queued since the last flush.
func (r *requester[V]) flush() error {
	r.mu.Lock()
	b := r.buf
	r.buf = nil
	r.mu.Unlock()
	if len(b) == 0 {
		return nil
	}
	return r.c.Write(b)
}

// pending is how many requests wait for their ack.
func (r *requester[V]) pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.waiting)
}
