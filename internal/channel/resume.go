package channel

import (
	"context"

	"github.com/tidings/tidings/internal/envelope"
	"github.com/tidings/tidings/internal/hub"
)

// replayChunk is how many missed messages a replay reads from the engine at
// a time: each chunk is on its way to the client before the next is read,
// so a client that is cut again mid-replay still makes progress.
const replayChunk = 256

// resume re-attaches user to stream, ahead of live events, every broadcast
// and private message stored after seq: at once when this node still holds
// them in memory, else by a replay from the engine (Session.Replay).
func (s *Service) resume(streamID int64, user string, seq uint64) (*Session, error) {
	sub := hub.NewSubscriber(streamID, user, s.cfg.Signer.ResumeTag(streamID, user)+"-", s.limits())
	sub.Hold()
	upTo, err := s.join(sub)
	if err != nil {
		return nil, err
	}
	// A token near its end is renewed so the resumed client keeps
	// publishing; clients that ignore this keep the old one until expiry.
	renew := s.cfg.Signer.UserToken(streamID, user, s.cfg.TokenTTL)
	sub.Replay(hub.NewNotice(envelope.System(streamID, user, map[string]any{
		"event": "resumed", "user_id": user, "token": renew,
	}).Encode()))
	sess := &Session{Sub: sub}
	if evs, ok := s.recent.since(streamID, user, seq, upTo); ok {
		sub.Replay(evs...)
		sub.Release()
		return sess, nil
	}
	// The replay stops as soon as the client leaves (Leave cancels it).
	ctx, cancel := context.WithCancel(s.runCtx)
	sess.replay = func() { s.replayFromEngine(ctx, sub, seq, upTo) }
	sess.cancel = cancel
	return sess, nil
}

// replayFromEngine queues, in chunks, the messages for sub stored after
// `after` up to upTo, then a loss notice if history limits removed some of
// them, then releases the live events held behind.
func (s *Service) replayFromEngine(ctx context.Context, sub *hub.Subscriber, after, upTo uint64) {
	from := after
	for from < upTo {
		rctx, cancel := context.WithTimeout(ctx, WaitTimeout)
		recs, err := s.cfg.Log.Range(rctx, sub.Stream, sub.User, from, upTo, replayChunk)
		cancel()
		if ctx.Err() != nil {
			return // the client left; it will resume from what it got
		}
		if err != nil {
			s.replayFailed(sub, after, err)
			return
		}
		if len(recs) == 0 {
			break
		}
		evs := make([]*hub.Event, len(recs))
		for i, r := range recs {
			evs[i] = hub.NewEvent(r.Seq, r.Data)
		}
		sub.Replay(evs...)
		from = recs[len(recs)-1].Seq
	}
	// Checked after reading: a message trimmed meanwhile is then either in
	// the replay or reported, never silently missing.
	rctx, cancel := context.WithTimeout(ctx, WaitTimeout)
	lost, err := s.cfg.Log.Lost(rctx, sub.Stream, sub.User, after)
	cancel()
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		s.replayFailed(sub, after, err)
		return
	}
	if lost {
		sub.Replay(hub.NewNotice(envelope.System(sub.Stream, sub.User, map[string]any{
			"event":   "messages_lost",
			"message": "some messages were removed from history before you reconnected; request the history again",
		}).Encode()))
	}
	sub.Release()
}

// replayFailed closes sub with a reason: EventSource reconnects and the
// client resumes from the last message it received.
func (s *Service) replayFailed(sub *hub.Subscriber, after uint64, err error) {
	s.log.Warn("channel: replaying missed messages", "stream", sub.Stream, "after", after, "err", err)
	sub.Close(hub.ReasonReplay, ClosingNotice(sub.Stream, hub.ReasonReplay))
}
