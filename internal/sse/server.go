package sse

import (
	"context"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/tidings/tidings/internal/hub"
)

// Config tunes a Server. Zero values get defaults.
type Config struct {
	// Heartbeat is the idle time after which a comment line is sent
	// (default 15s).
	Heartbeat time.Duration
	// WriteTimeout bounds how long a connection may refuse bytes before it
	// is closed as too slow (default 15s).
	WriteTimeout time.Duration
	// Workers is the number of writer goroutines (default GOMAXPROCS).
	Workers int
	// Pace and MaxDelay trade latency for throughput under load: after a
	// pass over the ready connections that took P, a writer waits
	// min(Pace×P, MaxDelay) before the next, so events pile up and each
	// connection gets several in one write. One write costs several µs of
	// kernel time on loopback, an event in it a fraction of one: when
	// thousands of connections are busy, batching is the only way to keep
	// up. A quiet server waits microseconds. Defaults: 4 and 100ms; a Pace
	// below 0 disables waiting.
	Pace     float64
	MaxDelay time.Duration
	// Notice returns the last event sent to a subscriber closed for reason
	// (may be nil).
	Notice func(stream int64, reason string) *hub.Event
}

// Server writes the events of attached connections.
type Server struct {
	cfg Config

	mu    sync.Mutex
	ready []*conn // connections with something to write
	conns map[*conn]struct{}
	wake  chan struct{} // cap 1: ready became non-empty
	stop  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup // workers and the heartbeat loop
}

// New starts a Server's writers; Close stops them.
func New(cfg Config) *Server {
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 15 * time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Pace == 0 {
		cfg.Pace = 4
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = 100 * time.Millisecond
	}
	s := &Server{cfg: cfg, conns: map[*conn]struct{}{}, wake: make(chan struct{}, 1), stop: make(chan struct{})}
	for range cfg.Workers {
		s.wg.Add(1)
		go s.worker()
	}
	s.wg.Add(1)
	go s.heartbeats()
	return s
}

// Attach takes over nc for sub's events. head (the response headers and
// anything else to send first) is written before any event. onClose runs
// once, after the connection is closed for any reason.
func (s *Server) Attach(nc net.Conn, sub *hub.Subscriber, head []byte, onClose func()) {
	c := newConn(s, nc, sub, head, onClose)
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	sub.OnReady(c.ready)
	go c.watch()
	c.ready()
}

// Len is the number of attached connections.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) enqueue(c *conn) {
	s.mu.Lock()
	s.ready = append(s.ready, c)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// take returns the ready connections, or blocks until there are some.
func (s *Server) take(batch []*conn) ([]*conn, bool) {
	for {
		s.mu.Lock()
		if len(s.ready) > 0 {
			// Split the work so every worker gets a share.
			n := (len(s.ready) + s.cfg.Workers - 1) / s.cfg.Workers
			batch = append(batch[:0], s.ready[:n]...)
			rest := copy(s.ready, s.ready[n:])
			clear(s.ready[rest:])
			s.ready = s.ready[:rest]
			more := rest > 0
			s.mu.Unlock()
			if more { // let another worker take the rest
				select {
				case s.wake <- struct{}{}:
				default:
				}
			}
			return batch, true
		}
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-s.stop:
			return nil, false
		}
	}
}

func (s *Server) worker() {
	defer s.wg.Done()
	var w writer
	var batch []*conn
	for {
		var ok bool
		if batch, ok = s.take(batch); !ok {
			return
		}
		start := time.Now()
		for i, c := range batch {
			w.flush(c)
			batch[i] = nil
		}
		s.pace(time.Since(start))
	}
}

// minPause is the shortest wait worth a timer; below it a writer goes on.
const minPause = 50 * time.Microsecond

// pace waits after a pass that took took (see Config.Pace).
func (s *Server) pace(took time.Duration) {
	if s.cfg.Pace < 0 {
		return
	}
	wait := min(time.Duration(float64(took)*s.cfg.Pace), s.cfg.MaxDelay)
	if wait < minPause {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.stop:
	}
}

// heartbeats marks connections idle for a heartbeat interval, so the next
// write sends a comment: proxies keep the stream open, and a dead peer is
// found out by the failing write.
func (s *Server) heartbeats() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.Heartbeat / 4)
	defer t.Stop()
	var due []*conn
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			due = due[:0]
			s.mu.Lock()
			for c := range s.conns {
				if now.UnixNano()-c.lastWrite.Load() >= int64(s.cfg.Heartbeat) {
					due = append(due, c)
				}
			}
			s.mu.Unlock()
			for _, c := range due {
				c.beat.Store(true)
				c.ready()
			}
		}
	}
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Close closes every attached connection (their subscribers should have been
// told to reconnect first) once they have flushed, or when ctx is done, and
// stops the writers.
func (s *Server) Close(ctx context.Context) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for s.Len() > 0 {
		select {
		case <-ctx.Done():
			s.mu.Lock()
			left := make([]*conn, 0, len(s.conns))
			for c := range s.conns {
				left = append(left, c)
			}
			s.mu.Unlock()
			for _, c := range left {
				c.kill()
			}
		case <-tick.C:
		}
	}
	s.once.Do(func() { close(s.stop) })
	s.wg.Wait()
}
