package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// ErrBadEvent is wrapped by the error [Subscription.Next] returns for an
// event whose data is not a JSON envelope. Such an error is not fatal:
// the event is skipped and Next may be called again.
var ErrBadEvent = errors.New("tidings: undecodable event")

// SubscribeOption configures [Client.Subscribe].
type SubscribeOption func(*subscribeOptions)

type subscribeOptions struct {
	lastEventID string
}

// WithLastEventID resumes a subscription after the event with the given
// id by sending it in the Last-Event-ID header. The server then replays
// later events and sends no init event, so Subscribe returns as soon as
// the response headers arrive. The first event of a resumed stream is a
// system envelope whose message is {"event":"resumed","user_id":...,
// "token":...}; once [Subscription.Next] has returned it, Token and UserID
// report the kept user id and the (possibly renewed) token. ViewerCount
// stays 0 until an init event is received. An empty id means a fresh
// subscription.
func WithLastEventID(id string) SubscribeOption {
	return func(o *subscribeOptions) { o.lastEventID = id }
}

// Subscription is an open SSE stream created by [Client.Subscribe]. A
// goroutine owned by the Subscription reads the stream until the server
// closes it, the context given to Subscribe is done, or Close is called.
// Its methods are safe for concurrent use.
//
// Token and UserID come from the init event of a fresh subscription, and
// are also taken from system envelopes whose message carries
// "event":"resumed" (the first event after a resume with
// [WithLastEventID]) or "event":"token" (a renewed token), so that
// publishing keeps working after a resume.
type Subscription struct {
	client   *Client
	streamID int64
	cancel   context.CancelFunc
	items    chan item
	done     chan struct{} // closed when the reader goroutine has exited
	err      error         // terminal error; written before items is closed
	once     sync.Once

	mu      sync.Mutex
	pending *Envelope // first event of a fresh stream that was not init
	init    *Envelope
	token   string
	userID  string
	viewers int
	lastID  string
}

// item is one event handed from the reader goroutine to Next.
type item struct {
	env Envelope
	err error
}

// Subscribe opens the SSE stream of a stream (GET /subscribe/{streamID}).
// ctx bounds the whole life of the subscription, not just its opening:
// when ctx is done the stream is closed. A non-2xx answer is returned as
// an [*Error].
//
// Without [WithLastEventID], Subscribe waits for the first event. If it
// is an init event, Subscribe records its token, user id and viewer count
// and Next starts with the event after it; otherwise that first event is
// the first one Next returns.
//
// The caller must call Close when done with the subscription.
func (c *Client) Subscribe(ctx context.Context, streamID int64, opts ...SubscribeOption) (*Subscription, error) {
	var o subscribeOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	sctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(sctx, http.MethodGet,
		c.url(fmt.Sprintf("/subscribe/%d", streamID), nil), nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("tidings: subscribe: %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if o.lastEventID != "" {
		req.Header.Set("Last-Event-ID", o.lastEventID)
	}
	resp, err := c.streamClient.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("tidings: subscribe: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBodySize))
		resp.Body.Close()
		cancel()
		return nil, newError(resp, body)
	}
	s := &Subscription{
		client:   c,
		streamID: streamID,
		cancel:   cancel,
		items:    make(chan item),
		done:     make(chan struct{}),
		lastID:   o.lastEventID,
	}
	er := NewEventReader(resp.Body)
	er.lastID = o.lastEventID
	go s.run(sctx, resp.Body, er)
	if o.lastEventID != "" {
		return s, nil
	}
	first, err := s.recv(ctx)
	if err != nil {
		s.Close()
		return nil, err
	}
	if first.Type == TypeInit {
		s.observe(first)
	} else {
		s.pending = &first
	}
	return s, nil
}

// run is the reader goroutine.
func (s *Subscription) run(ctx context.Context, body io.ReadCloser, er *EventReader) {
	defer close(s.done)
	defer close(s.items) // after s.err is set
	defer body.Close()
	for {
		ev, err := er.Next()
		if err != nil {
			switch {
			case ctx.Err() != nil:
				s.err = fmt.Errorf("tidings: subscription closed: %w", ctx.Err())
			case errors.Is(err, io.EOF):
				s.err = fmt.Errorf("tidings: stream closed by server: %w", io.EOF)
			case errors.Is(err, io.ErrUnexpectedEOF):
				s.err = fmt.Errorf("tidings: stream closed by server: %w (%w)", io.EOF, err)
			default:
				s.err = fmt.Errorf("tidings: reading stream: %w", err)
			}
			return
		}
		var it item
		if err := json.Unmarshal([]byte(ev.Data), &it.env); err != nil {
			it.err = fmt.Errorf("%w (id %q): %v", ErrBadEvent, ev.ID, err)
		}
		it.env.ID = ev.ID
		select {
		case s.items <- it:
		case <-ctx.Done():
			s.err = fmt.Errorf("tidings: subscription closed: %w", ctx.Err())
			return
		}
	}
}

// Next returns the next envelope of the stream, waiting until one arrives
// or ctx is done. Once the stream has ended it returns the same error on
// every call: one wrapping io.EOF if the server closed the stream, or
// wrapping context.Canceled after Close (or the Subscribe context's
// error). An error wrapping [ErrBadEvent] is not fatal. An init envelope
// returned by Next updates Token, UserID and ViewerCount.
func (s *Subscription) Next(ctx context.Context) (Envelope, error) {
	s.mu.Lock()
	p := s.pending
	s.pending = nil
	s.mu.Unlock()
	if p != nil {
		s.observe(*p)
		return *p, nil
	}
	env, err := s.recv(ctx)
	if err == nil {
		s.observe(env)
	}
	return env, err
}

// recv takes the next item from the reader goroutine without recording
// it (see observe).
func (s *Subscription) recv(ctx context.Context) (Envelope, error) {
	select {
	case it, ok := <-s.items:
		if !ok {
			return Envelope{}, s.err
		}
		if it.err != nil {
			return Envelope{}, it.err
		}
		return it.env, nil
	case <-ctx.Done():
		return Envelope{}, ctx.Err()
	}
}

// observe records the id of a delivered envelope, the data of an init,
// and the token and user id of a "resumed" or "token" system envelope.
func (s *Subscription) observe(env Envelope) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastID = env.ID
	if env.Type == TypeSystem {
		s.observeIdentity(env.Message)
		return
	}
	if env.Type != TypeInit {
		return
	}
	e := env
	s.init = &e
	var m InitMessage
	if json.Unmarshal(env.Message, &m) == nil {
		s.token, s.userID, s.viewers = m.Token, m.UserID, m.ViewerCount
	}
}

// systemIdentity is the part of a system message that can carry the
// subscriber's identity.
type systemIdentity struct {
	Event  string `json:"event"`
	Token  string `json:"token"`
	UserID string `json:"user_id"`
}

// observeIdentity records the token and user id of a "resumed" or
// "token" system message; other messages are ignored. s.mu must be held.
func (s *Subscription) observeIdentity(msg json.RawMessage) {
	var m systemIdentity
	if json.Unmarshal(msg, &m) != nil || (m.Event != "resumed" && m.Event != "token") {
		return
	}
	if m.Token != "" {
		s.token = m.Token
	}
	if m.UserID != "" {
		s.userID = m.UserID
	}
}

// Close stops the reader goroutine, closes the connection and waits for
// both to finish. It is idempotent and always returns nil.
func (s *Subscription) Close() error {
	s.once.Do(func() {
		s.cancel()
		<-s.done
	})
	return nil
}

// Done returns a channel that is closed once the stream has ended and the
// reader goroutine has exited (server close, context done or Close).
func (s *Subscription) Done() <-chan struct{} { return s.done }

// StreamID returns the id of the subscribed stream.
func (s *Subscription) StreamID() int64 { return s.streamID }

// Token returns the viewer token from the latest init event or
// "resumed"/"token" system envelope, or "" if none was received.
func (s *Subscription) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// UserID returns the user id the server assigned in the latest init
// event or "resumed"/"token" system envelope, or "" if none was received.
func (s *Subscription) UserID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userID
}

// ViewerCount returns the viewer count reported by the latest init
// event, or 0 if none was received.
func (s *Subscription) ViewerCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.viewers
}

// LastEventID returns the SSE event ID of the latest envelope received
// (by Subscribe or Next), or the id given to [WithLastEventID] if none
// was received yet. Pass it to WithLastEventID to resume after it.
func (s *Subscription) LastEventID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastID
}

// Init returns the latest init envelope received, and false if none was.
func (s *Subscription) Init() (Envelope, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.init == nil {
		return Envelope{}, false
	}
	return *s.init, true
}
