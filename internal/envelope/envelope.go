// Package envelope owns the wire format of channel messages: the JSON
// envelope of PROTOCOL.md part A and its validation.
//
// Field order and names are part of the contract (client code parses them),
// so Envelope is encoded with encoding/json in declaration order.
package envelope

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/tidings/tidings/internal/fault"
)

// Message types. Clients send the first four; the server sends the rest.
const (
	TypeBroadcast = "broadcast"
	TypePrivate   = "private"
	TypeRequest   = "request"
	TypeWebhook   = "webhook"
	TypeInit      = "init"
	TypeSystem    = "system"
)

// ServerAuthor is the author_id of envelopes the server itself sends.
const ServerAuthor = "0"

// Envelope is one channel message as it travels on the wire.
type Envelope struct {
	StreamID  string          `json:"stream_id"`
	AuthorID  string          `json:"author_id"`
	ToUserID  string          `json:"to_user_id"`
	Message   json.RawMessage `json:"message"`
	Timestamp float64         `json:"timestamp"`
	Type      string          `json:"type"`
	WidgetKey string          `json:"widget_key"`
}

// Incoming is what a client may send to POST /publish. Fields the server owns
// (author_id, stream_id) are accepted but ignored, so clients cannot spoof them.
type Incoming struct {
	Type           string          `json:"type"`
	Message        json.RawMessage `json:"message"`
	WidgetKey      string          `json:"widget_key"`
	ToUserID       string          `json:"to_user_id"`
	Timestamp      json.RawMessage `json:"timestamp"`
	IdempotencyKey string          `json:"idempotency_key"`
}

// Decode parses and validates a publish body. The returned error is a
// fault.ErrInvalid whose text tells the client what to fix.
func Decode(body []byte) (Incoming, float64, error) {
	var in Incoming
	// Unmarshal (not a Decoder) also refuses anything after the object.
	if err := json.Unmarshal(body, &in); err != nil {
		return in, 0, fault.Errorf(fault.ErrInvalid, "request body is not a valid JSON envelope: %s", jsonProblem(err))
	}
	ts, err := timestamp(in.Timestamp)
	if err != nil {
		return in, 0, err
	}
	if in.WidgetKey == "" {
		return in, 0, fault.New(fault.ErrInvalid, "widget_key is required: send the key of the widget that publishes")
	}
	switch in.Type {
	case TypeBroadcast, TypeWebhook:
		if isEmpty(in.Message) {
			return in, 0, fault.Errorf(fault.ErrInvalid, "message is required for type %q", in.Type)
		}
	case TypePrivate:
		if isEmpty(in.Message) {
			return in, 0, fault.New(fault.ErrInvalid, `message is required for type "private"`)
		}
		if in.ToUserID == "" {
			return in, 0, fault.New(fault.ErrInvalid, `to_user_id is required for type "private": the user_id of the receiver`)
		}
	case TypeRequest:
	case "":
		return in, 0, fault.New(fault.ErrInvalid, `type is required: one of "broadcast", "private", "request", "webhook"`)
	case TypeInit, TypeSystem:
		return in, 0, fault.Errorf(fault.ErrInvalid, "type %q is sent by the server only", in.Type)
	default:
		return in, 0, fault.Errorf(fault.ErrInvalid, `unknown type %q: use "broadcast", "private", "request" or "webhook"`, in.Type)
	}
	return in, ts, nil
}

func isEmpty(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

func timestamp(raw json.RawMessage) (float64, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return 0, nil
	}
	f, err := strconv.ParseFloat(string(t), 64)
	if err != nil {
		return 0, fault.New(fault.ErrInvalid, "timestamp must be a number: seconds of video time")
	}
	return f, nil
}

func jsonProblem(err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return se.Error() + " at byte " + strconv.FormatInt(se.Offset, 10)
	}
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return "field " + strconv.Quote(te.Field) + " has the wrong type (" + te.Value + ")"
	}
	return err.Error()
}
