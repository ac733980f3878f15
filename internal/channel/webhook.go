package channel

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/tidings/tidings/internal/envelope"
	"github.com/tidings/tidings/internal/fault"
	"github.com/tidings/tidings/internal/widgets"
)

// WebhookRequest is a "webhook" publish that passed the channel's checks:
// the stream is live, the token is the user's, the widget key is current.
type WebhookRequest struct {
	Stream         int64
	User           string
	Widget         widgets.Widget
	Message        json.RawMessage // the envelope's message; its "url" is the target
	Timestamp      float64
	IdempotencyKey string
}

// WebhookQueue takes webhook publishes (the webhooks package implements
// it). Submit returns nil once the call is durably queued, or a fault error
// for the publisher: a bad URL, a host the widget may not call, a rate
// limit, a queue that cannot take it.
type WebhookQueue interface {
	Submit(ctx context.Context, r WebhookRequest) error
}

// ErrNoWebhooks is returned for webhook publishes when the node has no
// webhook queue.
var ErrNoWebhooks = fault.New(fault.ErrNotImplemented, "webhook messages are not enabled on this server")

func (s *Service) submitWebhook(ctx context.Context, r WebhookRequest) error {
	if s.cfg.Webhooks == nil {
		return ErrNoWebhooks
	}
	return s.cfg.Webhooks.Submit(ctx, r)
}

// SendResult stores message as a "webhook" envelope to user alone on
// stream. Like a private message it is in the log, so the node holding
// the user's connection delivers it and a resuming client gets it again.
// id deduplicates a repeated send within the engine's duplicate window.
func (s *Service) SendResult(ctx context.Context, stream int64, user, id string, message any) error {
	msg, err := json.Marshal(message)
	if err != nil {
		return fmt.Errorf("channel: webhook result: %w", err)
	}
	env := envelope.Envelope{
		StreamID: strconv.FormatInt(stream, 10),
		AuthorID: envelope.ServerAuthor,
		ToUserID: user,
		Message:  msg,
		Type:     envelope.TypeWebhook,
	}
	if _, _, err := s.cfg.Log.Publish(ctx, stream, user, env.Encode(), id); err != nil {
		return fmt.Errorf("channel: webhook result: %w", err)
	}
	return nil
}
