package channel

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/tidings/tidings/internal/envelope"
	"github.com/tidings/tidings/internal/fault"
	"github.com/tidings/tidings/internal/hub"
	"github.com/tidings/tidings/internal/tokens"
)

// Errors a publisher can get about its token.
var (
	ErrNoToken    = fault.New(fault.ErrUnauthorized, "token is required: pass ?token=<token from the init event>")
	ErrBadToken   = fault.New(fault.ErrUnauthorized, "token is not valid: use the token from this stream's init event")
	ErrTokenStale = fault.New(fault.ErrUnauthorized, "token has expired: subscribe again to get a new one")
	ErrWrongToken = fault.New(fault.ErrUnauthorized, "token was issued for another stream")
)

// Publish handles one POST /publish: it checks the stream, the token and the
// widget key, then acts on the envelope's type. It returns nil once the
// message is durably stored (broadcast, private) or the reply is on its way
// (request).
func (s *Service) Publish(ctx context.Context, streamID int64, token string, body []byte, idempotencyKey string) error {
	st, err := s.liveStream(streamID)
	if err != nil {
		return err
	}
	user, err := s.verifyToken(streamID, token)
	if err != nil {
		return err
	}
	in, ts, err := envelope.Decode(body)
	if err != nil {
		return err
	}
	widget, err := s.cfg.Widgets.Authorize(st.Account, in.WidgetKey)
	if err != nil {
		return err
	}
	if idempotencyKey == "" {
		idempotencyKey = in.IdempotencyKey
	}
	if len(idempotencyKey) > 128 {
		return fault.New(fault.ErrInvalid, "idempotency key is longer than 128 bytes")
	}
	switch in.Type {
	case envelope.TypeBroadcast, envelope.TypePrivate:
		env := envelope.Envelope{
			StreamID:  strconv.FormatInt(streamID, 10),
			AuthorID:  user,
			Message:   in.Message,
			Timestamp: ts,
			Type:      in.Type,
			WidgetKey: in.WidgetKey,
		}
		to := ""
		if in.Type == envelope.TypePrivate {
			if !validUserID(in.ToUserID) {
				return fault.New(fault.ErrInvalid, "to_user_id is not a user id of this server")
			}
			to, env.ToUserID = in.ToUserID, in.ToUserID
		}
		if _, _, err := s.cfg.Log.Publish(ctx, streamID, to, env.Encode(), idempotencyKey); err != nil {
			s.log.Error("channel: store message", "stream", streamID, "err", err)
			return fault.New(fault.ErrUnavailable, "the message could not be stored; it was not published, retry shortly")
		}
		return nil
	case envelope.TypeRequest:
		return s.requestHistory(ctx, streamID, user)
	case envelope.TypeWebhook:
		return s.submitWebhook(ctx, WebhookRequest{
			Stream: streamID, User: user, Widget: widget, Message: in.Message,
			Timestamp: ts, IdempotencyKey: idempotencyKey,
		})
	}
	return fault.Errorf(fault.ErrInvalid, "unsupported type %q", in.Type)
}

func (s *Service) verifyToken(streamID int64, token string) (string, error) {
	if token == "" {
		return "", ErrNoToken
	}
	u, err := s.cfg.Signer.VerifyUser(token)
	switch {
	case errors.Is(err, tokens.ErrExpired):
		return "", ErrTokenStale
	case err != nil:
		return "", ErrBadToken
	case u.StreamID != streamID:
		return "", ErrWrongToken
	}
	return u.UserID, nil
}

// validUserID accepts ids this server could have issued (decimal digits),
// which also keeps them safe inside engine subjects.
func validUserID(id string) bool {
	if id == "" || len(id) > 20 {
		return false
	}
	for _, c := range id {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// directRequest asks the node holding user's connection to act for it.
type directRequest struct {
	Stream int64  `json:"s"`
	User   string `json:"u"`
	Kind   string `json:"k"`
}

// requestHistory sends the stored broadcasts to user alone. The node that
// holds the user's connection does the work: here if it is local, else the
// request is routed over the engine to every node.
func (s *Service) requestHistory(ctx context.Context, streamID int64, user string) error {
	if s.hub.HasUser(streamID, user) {
		return s.sendHistory(ctx, streamID, user)
	}
	data, _ := json.Marshal(directRequest{Stream: streamID, User: user, Kind: "history"})
	if err := s.cfg.Signals.Signal("direct."+strconv.FormatInt(streamID, 10), data); err != nil {
		return fault.New(fault.ErrUnavailable, "the request could not be routed; retry shortly")
	}
	return nil
}

func (s *Service) sendHistory(ctx context.Context, streamID int64, user string) error {
	recs, err := s.cfg.Log.History(ctx, streamID)
	if err != nil {
		s.log.Error("channel: read history", "stream", streamID, "err", err)
		return fault.New(fault.ErrUnavailable, "history could not be read; retry shortly")
	}
	// The reply holds every stored broadcast, also those the tail has not
	// handed to the hub yet; the hub then leaves them out of the live
	// events, so the user gets each once and the history is complete.
	items := make([][]byte, len(recs))
	var covered uint64
	for i, r := range recs {
		items[i] = r.Data
		covered = r.Seq
	}
	s.hub.Reply(streamID, user, hub.NewNotice(envelope.Reply(streamID, user, items).Encode()), covered)
	return nil
}

// routed handles requests other nodes route here.
func (s *Service) routed(_ string, data []byte) {
	var req directRequest
	if json.Unmarshal(data, &req) != nil || !s.hub.HasUser(req.Stream, req.User) {
		return
	}
	switch req.Kind {
	case "history":
		// Off the signal goroutine: reading history waits on the engine.
		go func() {
			ctx, cancel := context.WithTimeout(s.runCtx, WaitTimeout)
			defer cancel()
			if err := s.sendHistory(ctx, req.Stream, req.User); err != nil {
				s.log.Warn("channel: routed history", "stream", req.Stream, "err", err)
			}
		}()
	}
}
