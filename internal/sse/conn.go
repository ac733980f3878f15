package sse

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tidings/tidings/internal/hub"
)

// A connection's write side is owned by at most one goroutine at a time:
// a worker, or the drainer of a full socket. ready() moves it between
// these states without locks on the fan-out path.
const (
	idle      int32 = iota // nothing to write, nobody writing
	queued                 // in the server's ready list
	busy                   // being written
	busyDirty              // being written, and more arrived meanwhile
)

type conn struct {
	srv     *Server
	nc      net.Conn
	raw     syscall.RawConn // nil: fall back to blocking writes
	sub     *hub.Subscriber
	onClose func()

	state     atomic.Int32
	beat      atomic.Bool  // a heartbeat is due
	lastWrite atomic.Int64 // unix nanos
	dead      atomic.Bool

	pending []byte // bytes the socket did not take yet; owned by the writer
	once    sync.Once
}

func newConn(s *Server, nc net.Conn, sub *hub.Subscriber, head []byte, onClose func()) *conn {
	c := &conn{srv: s, nc: nc, sub: sub, onClose: onClose, pending: head}
	if sc, ok := nc.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			c.raw = raw
		}
	}
	c.lastWrite.Store(time.Now().UnixNano())
	return c
}

// ready asks for a flush; it is the subscriber's OnReady callback.
func (c *conn) ready() {
	for {
		switch st := c.state.Load(); st {
		case idle:
			if c.state.CompareAndSwap(idle, queued) {
				c.srv.enqueue(c)
				return
			}
		case busy:
			if c.state.CompareAndSwap(busy, busyDirty) {
				return
			}
		default: // queued, busyDirty: a flush is coming anyway
			return
		}
	}
}

// release ends a writer's turn; if more arrived meanwhile, it queues again.
func (c *conn) release() {
	if c.state.CompareAndSwap(busy, idle) {
		return
	}
	c.state.Store(queued)
	c.srv.enqueue(c)
}

// watch parks until the client closes the connection (or sends anything,
// which an SSE client never does), then closes it.
func (c *conn) watch() {
	var b [1]byte
	_, _ = c.nc.Read(b[:])
	c.kill()
}

// kill closes the connection once and tells the owner.
func (c *conn) kill() {
	c.once.Do(func() {
		c.dead.Store(true)
		_ = c.nc.Close()
		c.srv.forget(c)
		if c.onClose != nil {
			c.onClose()
		}
	})
}

// writer is a worker's reusable state.
type writer struct {
	buf    []byte
	events []*hub.Event
}

// flush writes everything queued for c in one write. Called by a worker
// that took c from the ready list.
func (w *writer) flush(c *conn) {
	c.state.Store(busy)
	if c.dead.Load() {
		return // stays busy: nobody writes to it again
	}
	var closed bool
	var reason string
	w.events, closed, reason = c.sub.Drain(w.events)
	out := append(w.buf[:0], c.pending...)
	c.pending = nil
	prefix := c.sub.IDPrefix()
	for _, ev := range w.events {
		out = ev.AppendTo(out, prefix)
	}
	clear(w.events)
	if closed && reason == hub.ReasonSlow && c.srv.cfg.Notice != nil {
		out = c.srv.cfg.Notice(c.sub.Stream, reason).AppendTo(out, nil)
	}
	if c.beat.Swap(false) && len(out) == 0 {
		out = append(out, hub.Heartbeat...)
	}
	if cap(out) <= 256<<10 { // keep a worker's buffer, unless a burst grew it huge
		w.buf = out
	} else {
		w.buf = nil
	}
	if len(out) == 0 {
		c.finish(closed)
		return
	}
	n, err := c.tryWrite(out)
	if err != nil {
		c.kill()
		return
	}
	c.lastWrite.Store(time.Now().UnixNano())
	if n == len(out) {
		c.finish(closed)
		return
	}
	if closed && reason == hub.ReasonSlow {
		c.kill() // it did not keep up; do not wait for it now
		return
	}
	// The socket is full: hand the rest to a goroutine that waits for it,
	// so this worker moves on.
	rest := append([]byte(nil), out[n:]...)
	go c.drain(rest, closed)
}

// finish ends a turn: a closed mailbox closes the connection once all is
// written.
func (c *conn) finish(closed bool) {
	if closed {
		c.kill()
		return
	}
	c.release()
}

// tryWrite makes one non-blocking write attempt.
func (c *conn) tryWrite(b []byte) (int, error) {
	if c.raw == nil {
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
		return c.nc.Write(b)
	}
	var n int
	var werr error
	err := c.raw.Write(func(fd uintptr) bool {
		n, werr = syscall.Write(int(fd), b)
		return true // one attempt; never park the worker
	})
	if err != nil {
		return 0, err
	}
	if errors.Is(werr, syscall.EAGAIN) || errors.Is(werr, syscall.EINTR) {
		return 0, nil
	}
	if werr != nil {
		return 0, werr
	}
	return n, nil
}

// drain blocks until rest is written or the write timeout passes; a client
// that does not read for that long is closed as too slow.
func (c *conn) drain(rest []byte, closed bool) {
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
	_, err := c.nc.Write(rest)
	_ = c.nc.SetWriteDeadline(time.Time{})
	if err != nil {
		if errors.Is(err, syscall.ETIMEDOUT) || isTimeout(err) {
			c.sub.Close(hub.ReasonSlow, nil)
		}
		c.kill()
		return
	}
	c.lastWrite.Store(time.Now().UnixNano())
	c.finish(closed)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
