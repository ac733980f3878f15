package webhooks

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// job is one queued webhook call. The queue holds one copy per attempt:
// a retry enqueues the next attempt and acknowledges this one, so Attempt
// counts calls made, not redeliveries (which a crash or a deferral causes).
type job struct {
	ID        string    `json:"id"`
	Attempt   int       `json:"attempt"`
	NotBefore time.Time `json:"not_before,omitzero"`
	Stream    int64     `json:"stream"`
	User      string    `json:"user"`
	Account   string    `json:"account"`
	Widget    int64     `json:"widget"`
	URL       string    `json:"url"`
	// Body is the exact JSON posted (and signed) on every attempt.
	Body json.RawMessage `json:"body"`
	// LastStatus and LastError describe the previous failed attempt.
	LastStatus int    `json:"last_status,omitempty"`
	LastError  string `json:"last_error,omitempty"`
}

// queueID is the queue's deduplication id of this attempt's copy.
func (j job) queueID() string { return j.ID + "." + strconv.Itoa(j.Attempt) }

// Payload is the JSON body a receiver gets. It is fixed when the webhook is
// published: every attempt sends the same bytes.
type Payload struct {
	Type       string `json:"type"` // always "webhook"
	DeliveryID string `json:"delivery_id"`
	StreamID   string `json:"stream_id"`
	AuthorID   string `json:"author_id"`
	// WidgetID identifies the widget; its key is never sent.
	WidgetID int64 `json:"widget_id"`
	// Message is the widget's message, url included.
	Message json.RawMessage `json:"message"`
	// Timestamp is the publisher's video time, as in channel envelopes.
	Timestamp float64 `json:"timestamp"`
	// RequestedAt is when the server accepted the webhook, Unix seconds.
	RequestedAt int64 `json:"requested_at"`
}

// Result is the message of the "webhook" envelope the requester gets back.
type Result struct {
	DeliveryID string `json:"delivery_id"`
	URL        string `json:"url"`
	// OK is true when the receiver answered 2xx.
	OK bool `json:"ok"`
	// Status is the receiver's HTTP status; 0 when none came.
	Status int `json:"status"`
	// Body is the receiver's answer: its JSON when it sent JSON, else a
	// string; cut at the size bound (then Truncated, and a string).
	Body      json.RawMessage `json:"body,omitempty"`
	Truncated bool            `json:"truncated,omitempty"`
	// Error says why the call failed, after the last attempt.
	Error    string `json:"error,omitempty"`
	Attempts int    `json:"attempts"`
	// Request is the widget's message, so it can match result to request.
	Request json.RawMessage `json:"request"`
}

// deadLetter is the record kept for an operator once a delivery is given up.
type deadLetter struct {
	job
	FailedAt time.Time `json:"failed_at"`
	Status   int       `json:"status,omitempty"`
	Error    string    `json:"error"`
}

// newDeliveryID returns "wh_" and 26 random characters. With an idempotency
// key the id is derived from it (and the stream and user), so a retried
// publish names the same delivery and the queue stores it once.
func newDeliveryID(stream int64, user, idempotencyKey string) string {
	var b [16]byte
	if idempotencyKey == "" {
		_, _ = rand.Read(b[:])
	} else {
		sum := sha256.Sum256([]byte(strconv.FormatInt(stream, 10) + "\x00" + user + "\x00" + idempotencyKey))
		copy(b[:], sum[:])
	}
	return "wh_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// resultBody is what the requester sees of a receiver's answer.
func resultBody(r response) json.RawMessage {
	if len(r.body) == 0 {
		return nil
	}
	if r.json && !r.truncated && json.Valid(r.body) {
		return r.body
	}
	// Marshal replaces invalid UTF-8, so any bytes make a valid string.
	b, _ := json.Marshal(strings.ToValidUTF8(string(r.body), "\uFFFD"))
	return b
}
