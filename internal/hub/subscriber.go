package hub

import "sync"

// Subscriber is one SSE connection's mailbox.
type Subscriber struct {
	Stream int64
	User   string

	idPrefix []byte
	max      int

	mu     sync.Mutex
	queue  []*Event
	closed bool
	reason string
	wake   chan struct{}
}

// NewSubscriber returns a mailbox for user on stream holding at most
// maxQueue undelivered events. idPrefix starts every event id sent to it.
func NewSubscriber(stream int64, user string, idPrefix string, maxQueue int) *Subscriber {
	if maxQueue <= 0 {
		maxQueue = 4096
	}
	return &Subscriber{Stream: stream, User: user, idPrefix: []byte(idPrefix), max: maxQueue, wake: make(chan struct{}, 1)}
}

// IDPrefix is what precedes the sequence in this subscriber's event ids.
func (s *Subscriber) IDPrefix() []byte { return s.idPrefix }

// Wake is signalled whenever events are queued or the mailbox closes.
func (s *Subscriber) Wake() <-chan struct{} { return s.wake }

func (s *Subscriber) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// push queues ev. On overflow the subscriber is closed as too slow, so one
// stuck client costs at most max events of memory.
func (s *Subscriber) push(ev *Event) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if len(s.queue) >= s.max {
		s.closed = true
		s.reason = ReasonSlow
		s.queue = nil
		s.mu.Unlock()
		s.signal()
		return
	}
	s.queue = append(s.queue, ev)
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
		s.queue = append(append(make([]*Event, 0, len(evs)+len(s.queue)), evs...), s.queue...)
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
	s.queue = s.queue[:0]
	closed, reason := s.closed, s.reason
	s.mu.Unlock()
	return buf, closed, reason
}

// Queued is the number of events waiting.
func (s *Subscriber) Queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}
