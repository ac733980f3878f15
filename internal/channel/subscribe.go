package channel

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"strconv"
	"time"

	"github.com/tidings/tidings/internal/envelope"
	"github.com/tidings/tidings/internal/fault"
	"github.com/tidings/tidings/internal/hub"
	"github.com/tidings/tidings/internal/streams"
)

// Session is one subscriber connection. Its events are read from Sub.
type Session struct {
	Sub *hub.Subscriber
	// replay, when set, still has to read missed messages from the engine;
	// cancel stops it.
	replay func()
	cancel context.CancelFunc
}

// Replay writes what a resumed client missed, if it was not all at hand
// when it subscribed: the caller attaches the connection first, so the
// client gets the response at once and the replay streams as it is read.
// It returns when the replay is queued or has failed (the subscriber is
// then closed with a reason, and the client resumes from what it got).
func (sess *Session) Replay() {
	if sess.replay != nil {
		sess.replay()
	}
}

// liveStream returns the stream if its channel is open, else the error a
// subscriber or publisher gets.
func (s *Service) liveStream(id int64) (streams.Stream, error) {
	st, ok := s.cfg.Streams.Lookup(id)
	switch {
	case !ok:
		return st, fault.Errorf(fault.ErrNotFound, "stream %d not found", id)
	case st.State == streams.StateEnded:
		return st, fault.Errorf(fault.ErrGone, "stream %d has ended; an ended stream cannot be subscribed or published to", id)
	case st.State != streams.StateLive:
		return st, fault.Errorf(fault.ErrConflict, "stream %d is not live yet: start it first (POST /v1/streams/%d/start)", id, id)
	}
	return st, nil
}

// newUserID returns a random id that is a safe integer in JavaScript.
func newUserID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strconv.FormatUint(binary.BigEndian.Uint64(b[:])>>11|1<<40, 10)
}

// Subscribe opens a subscription to stream. With a usable lastEventID the
// user's identity is kept and missed messages are replayed instead of
// sending a new init. The caller must call Leave when the connection ends.
func (s *Service) Subscribe(streamID int64, lastEventID string) (*Session, error) {
	if _, err := s.liveStream(streamID); err != nil {
		return nil, err
	}
	if lastEventID != "" {
		if user, seq, err := s.cfg.Signer.ParseEventID(streamID, lastEventID); err == nil {
			return s.resume(streamID, user, seq)
		}
		// A forged, altered or foreign id gets a new identity: it must
		// never yield someone else's.
	}
	user := newUserID()
	sub := hub.NewSubscriber(streamID, user, s.cfg.Signer.ResumeTag(streamID, user)+"-", s.limits())
	after, err := s.join(sub)
	if err != nil {
		return nil, err
	}
	token := s.cfg.Signer.UserToken(streamID, user, s.cfg.TokenTTL)
	init := envelope.Init(streamID, user, token, s.presence.Total(streamID))
	sub.Prepend(hub.NewEvent(after, init.Encode()))
	return &Session{Sub: sub}, nil
}

// join adds sub to the hub and returns the sequence after which it gets
// every event live. A stream that ended since Subscribe looked is refused
// here: its end closed the subscribers joined before it, and this one may
// have joined just after.
func (s *Service) join(sub *hub.Subscriber) (uint64, error) {
	_, after := s.hub.Join(sub)
	if _, err := s.liveStream(sub.Stream); err != nil {
		s.hub.Leave(sub)
		return 0, err
	}
	return after, nil
}

func (s *Service) limits() hub.Limits {
	return hub.Limits{Events: s.cfg.QueueSize, Bytes: s.cfg.QueueBytes}
}

// Leave ends a session.
func (s *Service) Leave(sess *Session) {
	s.hub.Leave(sess.Sub)
	if closed, reason := sess.Sub.Closed(); closed && reason == hub.ReasonSlow {
		s.stats.slow.Add(1)
		s.log.Warn("subscriber disconnected", "stream", sess.Sub.Stream, "user", sess.Sub.User, "reason", reason)
	}
	// Stops a replay still reading for a client that is gone.
	if sess.cancel != nil {
		sess.cancel()
	}
}

// ClosingNotice is the last event sent to a subscriber the server closes
// for reason, telling it why; EventSource then reconnects and resumes.
func ClosingNotice(stream int64, reason string) *hub.Event {
	return hub.NewNotice(envelope.System(stream, "", map[string]any{
		"event": "disconnected", "reason": reason,
	}).Encode())
}

// WaitTimeout bounds how long a handler may wait on a slow engine.
const WaitTimeout = 10 * time.Second
