package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Envelope types. The server sends all of them; clients publish
// broadcast, private and request envelopes.
const (
	// TypeInit is the first event of a fresh subscription; its Message is
	// an [InitMessage].
	TypeInit = "init"
	// TypeSystem is a server notice (for example viewer count changes).
	TypeSystem = "system"
	// TypeBroadcast is a message to every subscriber of the stream.
	TypeBroadcast = "broadcast"
	// TypePrivate is a message to one subscriber, named by ToUserID.
	TypePrivate = "private"
	// TypeRequest asks the server on behalf of a widget (for example for
	// its message history); the reply is delivered to the requester.
	TypeRequest = "request"
	// TypeWebhook is a message that arrived through a widget webhook.
	TypeWebhook = "webhook"
)

// Envelope is one message on a stream: the JSON body of an SSE "data:"
// event and of a publish request. When publishing, the server takes
// Type, Message, WidgetKey, ToUserID and Timestamp from it and fills in
// the rest; empty fields are omitted from the encoding.
type Envelope struct {
	StreamID  string  `json:"stream_id,omitempty"`
	AuthorID  string  `json:"author_id,omitempty"`
	ToUserID  string  `json:"to_user_id,omitempty"`
	Timestamp float64 `json:"timestamp,omitempty"`
	Type      string  `json:"type"`
	WidgetKey string  `json:"widget_key,omitempty"`
	// Message is the payload, any JSON value.
	Message json.RawMessage `json:"message,omitempty"`
	// ID is the SSE event ID the envelope arrived with (see [Event.ID]);
	// it is not part of the JSON encoding and is ignored when publishing.
	ID string `json:"-"`
}

// InitMessage is the Message of a [TypeInit] envelope: the viewer token
// to publish with, the user id the server assigned to this subscriber,
// and the number of viewers of the stream at subscribe time.
type InitMessage struct {
	Token       string `json:"token"`
	UserID      string `json:"user_id"`
	ViewerCount int    `json:"viewer_count"`
}

// PublishOption configures [Client.Publish].
type PublishOption func(*publishOptions)

type publishOptions struct {
	idempotencyKey string
}

// WithIdempotencyKey sends key in the Idempotency-Key header, so that the
// server accepts a retried publish only once.
func WithIdempotencyKey(key string) PublishOption {
	return func(o *publishOptions) { o.idempotencyKey = key }
}

// ErrNoToken is returned by the [Subscription] publish helpers when the
// subscription has no viewer token: no init event was received, or, for
// a subscription resumed with [WithLastEventID], its "resumed" system
// event has not yet been returned by [Subscription.Next].
var ErrNoToken = errors.New("tidings: subscription has no token (no init event received)")

// Publish posts env to the stream (POST /publish/{streamID}?token=token)
// with a viewer token obtained from a subscription's init event. It sends
// no API key. A rejected publish is an [*Error].
func (c *Client) Publish(ctx context.Context, streamID int64, token string, env Envelope, opts ...PublishOption) error {
	var o publishOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	var h http.Header
	if o.idempotencyKey != "" {
		h = http.Header{"Idempotency-Key": {o.idempotencyKey}}
	}
	return c.do(ctx, call{
		method: http.MethodPost,
		path:   fmt.Sprintf("/publish/%d", streamID),
		query:  url.Values{"token": {token}},
		header: h,
		body:   env,
		noAuth: true,
	})
}

// Publish posts env to the subscribed stream with the subscription's
// viewer token (see [Client.Publish]). It returns [ErrNoToken] if no init
// event has been received.
func (s *Subscription) Publish(ctx context.Context, env Envelope, opts ...PublishOption) error {
	token := s.Token()
	if token == "" {
		return ErrNoToken
	}
	return s.client.Publish(ctx, s.streamID, token, env, opts...)
}

// Broadcast publishes message, encoded with encoding/json (pass a
// json.RawMessage to send pre-encoded JSON), as a broadcast envelope of
// the widget with key widgetKey.
func (s *Subscription) Broadcast(ctx context.Context, widgetKey string, message any) error {
	return s.publishValue(ctx, TypeBroadcast, widgetKey, "", message)
}

// SendPrivate publishes message, encoded like [Subscription.Broadcast],
// as a private envelope of the widget to the user toUserID.
func (s *Subscription) SendPrivate(ctx context.Context, widgetKey, toUserID string, message any) error {
	return s.publishValue(ctx, TypePrivate, widgetKey, toUserID, message)
}

// RequestHistory publishes a request envelope with an empty-object
// message for the widget with key widgetKey, asking the server for the
// widget's message history. The reply arrives on the subscription as an
// envelope addressed to [Subscription.UserID].
func (s *Subscription) RequestHistory(ctx context.Context, widgetKey string) error {
	return s.publishValue(ctx, TypeRequest, widgetKey, "", json.RawMessage(`{}`))
}

// publishValue encodes message and publishes it.
func (s *Subscription) publishValue(ctx context.Context, typ, widgetKey, to string, message any) error {
	msg, err := json.Marshal(message)
	if err != nil {
		return fmt.Errorf("tidings: encoding message: %w", err)
	}
	return s.Publish(ctx, Envelope{Type: typ, WidgetKey: widgetKey, ToUserID: to, Message: msg})
}
