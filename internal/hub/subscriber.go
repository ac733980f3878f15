package hub

import (
	"sync"
	"sync/atomic"
)

// Subscriber is one SSE connection's mailbox.
type Subscriber struct {
	Stream int64
	User   string

	idPrefix []byte
	limits   Limits

	mu     sync.Mutex
	queue  []*Event
	bytes  int // sum of queued frames
	closed bool
	reason string
	ready  atomic.Pointer[func()] // called after events are queued or the mailbox closes
}

// Limits bound one subscriber's undelivered events. Events are shared, so
// the bytes are what a stuck subscriber keeps alive, not copies.
type Limits struct {
	Events int // default 4096
	Bytes  int // default 4 MiB
}

// NewSubscriber returns a mailbox for user on stream. idPrefix starts every
// event id sent to it.
func NewSubscriber(stream int64, user string, idPrefix string, limits Limits) *Subscriber {
	if limits.Events <= 0 {
		limits.Events = 4096
	}
	if limits.Bytes <= 0 {
		limits.Bytes = 4 << 20
	}
	return &Subscriber{Stream: stream, User: user, idPrefix: []byte(idPrefix), limits: limits}
}

// IDPrefix is what precedes the sequence in this subscriber's event ids.
func (s *Subscriber) IDPrefix() []byte { return s.idPrefix }

// OnReady sets fn to be called, outside the mailbox's lock, whenever events
// are queued or the mailbox closes: the writer's cue to drain it. fn must
// be cheap and must not block; it is called on the fan-out path. Events
// queued before it was set get no cue: the writer drains once on start.
func (s *Subscriber) OnReady(fn func()) { s.ready.Store(&fn) }

func (s *Subscriber) signal() {
	if fn := s.ready.Load(); fn != nil {
		(*fn)()
	}
}

// push queues ev. On overflow the subscriber is closed as too slow and its
// queue dropped, so one stuck client costs at most its limits of memory and
// never slows delivery to the others.
func (s *Subscriber) push(ev *Event) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if len(s.queue) >= s.limits.Events || s.bytes+len(ev.frame) > s.limits.Bytes {
		s.closed = true
		s.reason = ReasonSlow
		s.queue, s.bytes = nil, 0
		s.mu.Unlock()
		s.signal()
		return
	}
	s.queue = append(s.queue, ev)
	s.bytes += len(ev.frame)
	s.mu.Unlock()
	s.signal()
}

// Send queues ev for this subscriber alone (init, replies, replays).
func (s *Subscriber) Send(ev *Event) { s.push(ev) }

// Prepend queues evs ahead of everything already queued: the init event
// or a replay, which must precede live events that arrived since Join.
func (s *Subscriber) Prepend(evs ...*Event) {
	s.mu.Lock()
	if !s.closed {
		// A replay may exceed the live limits; it is bounded by history.
		s.queue = append(append(make([]*Event, 0, len(evs)+len(s.queue)), evs...), s.queue...)
		for _, ev := range evs {
			s.bytes += len(ev.frame)
		}
	}
	s.mu.Unlock()
	s.signal()
}

// Close closes the mailbox after ev (if not nil) is delivered.
func (s *Subscriber) Close(reason string, ev *Event) {
	s.mu.Lock()
	if !s.closed {
		if ev != nil {
			s.queue = append(s.queue, ev)
		}
		s.closed, s.reason = true, reason
	}
	s.mu.Unlock()
	s.signal()
}

// Reasons a subscriber is closed by the server.
const (
	ReasonSlow     = "slow consumer: events were queued faster than the connection read them"
	ReasonEnded    = "stream ended"
	ReasonShutdown = "server shutting down"
)

// Drain moves the queued events into buf (reusing its storage) and reports
// whether the mailbox is closed, with the reason.
func (s *Subscriber) Drain(buf []*Event) ([]*Event, bool, string) {
	s.mu.Lock()
	buf = append(buf[:0], s.queue...)
	clear(s.queue)
	s.queue, s.bytes = s.queue[:0], 0
	closed, reason := s.closed, s.reason
	s.mu.Unlock()
	return buf, closed, reason
}

// Queued is the number of events and bytes waiting.
func (s *Subscriber) Queued() (events, bytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue), s.bytes
}

// Closed reports whether the server closed the mailbox, and why.
func (s *Subscriber) Closed() (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed, s.reason
}
