package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/client"
	"github.com/tidings/tidings/internal/webhooks"
)

// hookCall is one request a test receiver got.
type hookCall struct {
	Delivery  string
	Attempt   string
	Signature string
	Body      []byte
	At        time.Time
}

// hookReceiver is a webhook receiver on 127.0.0.1. answer decides each
// response; it gets the number of the call (from 0) and the call.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	calls  []hookCall
	answer func(w http.ResponseWriter, n int, c hookCall)
}

func newHookReceiver(t *testing.T, answer func(w http.ResponseWriter, n int, c hookCall)) *hookReceiver {
	t.Helper()
	h := &hookReceiver{answer: answer}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		c := hookCall{
			Delivery:  r.Header.Get(webhooks.DeliveryHeader),
			Attempt:   r.Header.Get(webhooks.AttemptHeader),
			Signature: r.Header.Get(webhooks.SignatureHeader),
			Body:      body,
			At:        time.Now(),
		}
		h.mu.Lock()
		n := len(h.calls)
		h.calls = append(h.calls, c)
		answer := h.answer
		h.mu.Unlock()
		answer(w, n, c)
	}))
	t.Cleanup(h.Close)
	return h
}

// host is the receiver's "127.0.0.1:port".
func (h *hookReceiver) host() string { return strings.TrimPrefix(h.URL, "http://") }

func (h *hookReceiver) seen() []hookCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookCall(nil), h.calls...)
}

func (h *hookReceiver) setAnswer(answer func(w http.ResponseWriter, n int, c hookCall)) {
	h.mu.Lock()
	h.answer = answer
	h.mu.Unlock()
}

// status answers every call with code and a small JSON body.
func status(code int) func(http.ResponseWriter, int, hookCall) {
	return func(w http.ResponseWriter, _ int, _ hookCall) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"status":%d}`, code)
	}
}

// hookWidget creates a widget whose webhooks may call hosts.
func hookWidget(t *testing.T, c *client.Client, hosts ...string) *client.Widget {
	t.Helper()
	w, err := c.CreateWidget(context.Background(), client.CreateWidgetParams{Name: "hooks " + t.Name(), WebhookHosts: hosts})
	if err != nil {
		t.Fatalf("CreateWidget: %v", err)
	}
	if !strings.HasPrefix(w.WebhookSecret, "whsec_") {
		t.Fatalf("new widget's webhook secret %q; want whsec_…", w.WebhookSecret)
	}
	return w
}

// publishHook publishes a webhook for url with sub's token.
func publishHook(sub *client.Subscription, key, url string, opts ...client.PublishOption) error {
	msg, _ := json.Marshal(map[string]any{"url": url, "ask": "weather"})
	return sub.Publish(context.Background(), client.Envelope{Type: client.TypeWebhook, WidgetKey: key, Message: msg}, opts...)
}

// hookResult is the message of a webhook result envelope.
type hookResult struct {
	DeliveryID string          `json:"delivery_id"`
	URL        string          `json:"url"`
	OK         bool            `json:"ok"`
	Status     int             `json:"status"`
	Body       json.RawMessage `json:"body"`
	Truncated  bool            `json:"truncated"`
	Error      string          `json:"error"`
	Attempts   int             `json:"attempts"`
	Request    json.RawMessage `json:"request"`
}

// nextResult waits for the next webhook result on sub.
func nextResult(t *testing.T, sub *client.Subscription) (hookResult, client.Envelope) {
	t.Helper()
	env := next(t, sub, "a webhook result", ofType(client.TypeWebhook))
	var r hookResult
	if err := json.Unmarshal(env.Message, &r); err != nil {
		t.Fatalf("webhook result %s: %v", env.Message, err)
	}
	return r, env
}
