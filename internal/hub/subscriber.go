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

	mu    sync.Mutex
	queue []*Event
	bytes int // sum of queued and held frames
	// While holding, live events wait in held so that a replay, written in
	// chunks as it is read, stays ahead of them.
	holding bool
	held    []*Event
	// covered is the newest broadcast a history reply already gave this
	// connection: such broadcasts are not delivered live again.
	covered uint64
	closed  bool
	reason  string
	ready   atomic.Pointer[func()] // called after events are queued or the mailbox closes
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

// offer queues a live broadcast, or only its id if a history reply already
// carried it.
func (s *Subscriber) offer(ev *Event) {
	s.mu.Lock()
	if ev.Seq <= s.covered {
		ev = NewIDMarker(ev.Seq)
	}
	s.pushLocked(ev)
}

// push queues ev. On overflow the subscriber is closed as too slow and its
// queue dropped, so one stuck client costs at most its limits of memory and
// never slows delivery to the others.
func (s *Subscriber) push(ev *Event) {
	s.mu.Lock()
	s.pushLocked(ev)
}

// pushLocked is push with s.mu held; it unlocks it.
func (s *Subscriber) pushLocked(ev *Event) {
	if s.closed {
		s.mu.Unlock()
		return
	}
	if len(s.queue)+len(s.held) >= s.limits.Events || s.bytes+len(ev.frame) > s.limits.Bytes {
		s.closed = true
		s.reason = ReasonSlow
		s.queue, s.held, s.bytes = nil, nil, 0
		s.mu.Unlock()
		s.signal()
		return
	}
	s.bytes += len(ev.frame)
	if s.holding {
		s.held = append(s.held, ev)
		s.mu.Unlock()
		return
	}
	s.queue = append(s.queue, ev)
	s.mu.Unlock()
	s.signal()
}

// Hold makes live events wait until Release, so that a replay queued with
// Replay in the meantime reaches the client first. Call it before Join.
func (s *Subscriber) Hold() {
	s.mu.Lock()
	s.holding = true
	s.mu.Unlock()
}

// Replay queues evs, ahead of the live events held since Hold. A replay
// may exceed the live limits; it is bounded by the history it comes from.
func (s *Subscriber) Replay(evs ...*Event) {
	s.mu.Lock()
	if !s.closed {
		s.queue = append(s.queue, evs...)
		for _, ev := range evs {
			s.bytes += len(ev.frame)
		}
	}
	s.mu.Unlock()
	s.signal()
}

// Release ends a Hold: the held live events follow the replay.
func (s *Subscriber) Release() {
	s.mu.Lock()
	if !s.closed {
		s.queue = append(s.queue, s.held...)
	}
	s.holding, s.held = false, nil
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
		// Held live events would follow a replay that will not finish; the
		// client resumes from what it got.
		s.held = nil
	}
	s.mu.Unlock()
	s.signal()
}

// Reasons a subscriber is closed by the server.
const (
	ReasonSlow     = "slow consumer: events were queued faster than the connection read them"
	ReasonEnded    = "stream ended"
	ReasonShutdown = "server shutting down"
	ReasonReplay   = "missed messages could not be read now; reconnect to resume"
)

// Drain moves the queued events into buf (reusing its storage) and reports
// whether the mailbox is closed, with the reason.
func (s *Subscriber) Drain(buf []*Event) ([]*Event, bool, string) {
	s.mu.Lock()
	buf = append(buf[:0], s.queue...)
	clear(s.queue)
	s.queue = s.queue[:0]
	s.bytes = 0
	for _, ev := range s.held {
		s.bytes += len(ev.frame)
	}
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
