// Package e2e holds end-to-end tests: each starts real Tidings nodes (the
// same wiring `tidings serve` uses) on 127.0.0.1 with an engine in a temp
// directory and talks to them over HTTP and SSE only.
package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/client"
	"github.com/tidings/tidings/internal/server"
	"github.com/tidings/tidings/internal/testnode"
)

const adminKey = testnode.AdminKey

// node is one running Tidings server.
type node struct {
	*testnode.Node
	srv *server.Server
}

// startNode starts a node; cfg's zero fields get test defaults (a fresh
// temp data dir, a random loopback port, the admin key). With E2E_LOG set,
// the node logs to stderr.
func startNode(t *testing.T, cfg server.Config) *node {
	t.Helper()
	if os.Getenv("E2E_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return wrap(testnode.Start(t, cfg))
}

func wrap(n *testnode.Node) *node { return &node{Node: n, srv: n.Srv} }

// stop shuts the node down gracefully and waits for it.
func (n *node) stop() { n.Stop() }

func waitHealthy(t *testing.T, base string) { testnode.WaitHealthy(t, base) }

// admin returns a management client with the admin key.
func (n *node) admin() *client.Client { return client.New(n.URL, client.WithAPIKey(adminKey)) }

// anon returns a client without an API key (channel calls only).
func (n *node) anon() *client.Client { return client.New(n.URL) }

// liveStream creates and starts a stream and a widget with c.
func liveStream(t *testing.T, c *client.Client) (int64, *client.Widget) {
	t.Helper()
	ctx := context.Background()
	st, err := c.CreateStream(ctx, client.CreateStreamParams{Name: "test " + t.Name()})
	if err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	if _, err := c.StartStream(ctx, st.ID); err != nil {
		t.Fatalf("StartStream: %v", err)
	}
	w, err := c.CreateWidget(ctx, client.CreateWidgetParams{Name: "widget " + t.Name()})
	if err != nil {
		t.Fatalf("CreateWidget: %v", err)
	}
	return st.ID, w
}

// subscribe opens a subscription that is closed when the test ends.
func subscribe(t *testing.T, c *client.Client, stream int64, opts ...client.SubscribeOption) *client.Subscription {
	t.Helper()
	sub, err := c.Subscribe(context.Background(), stream, opts...)
	if err != nil {
		t.Fatalf("Subscribe(%d): %v", stream, err)
	}
	t.Cleanup(func() { sub.Close() })
	return sub
}

// next waits for the next envelope matching keep, skipping others.
func next(t *testing.T, sub *client.Subscription, what string, keep func(client.Envelope) bool) client.Envelope {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		env, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if keep(env) {
			return env
		}
	}
}

func ofType(typ string) func(client.Envelope) bool {
	return func(e client.Envelope) bool { return e.Type == typ }
}

// nextContent waits for the next broadcast or private envelope.
func nextContent(t *testing.T, sub *client.Subscription) client.Envelope {
	t.Helper()
	return next(t, sub, "a broadcast or private message", func(e client.Envelope) bool {
		return e.Type == client.TypeBroadcast || e.Type == client.TypePrivate
	})
}

// quiet asserts that no envelope matching keep arrives within d.
func quiet(t *testing.T, sub *client.Subscription, d time.Duration, what string, keep func(client.Envelope) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		env, err := sub.Next(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			return
		}
		if err != nil {
			t.Fatalf("while checking for no %s: %v", what, err)
		}
		if keep(env) {
			t.Fatalf("got %s, want none: %+v %s", what, env, env.Message)
		}
	}
}

// viewerCount extracts viewer_count from a system envelope.
func viewerCount(e client.Envelope) (int, bool) {
	var m struct {
		ViewerCount *int `json:"viewer_count"`
	}
	if e.Type != client.TypeSystem || json.Unmarshal(e.Message, &m) != nil || m.ViewerCount == nil {
		return 0, false
	}
	return *m.ViewerCount, true
}

// text is a chat-like payload for tests.
func text(s string) map[string]string { return map[string]string{"type": "chat", "message_text": s} }

// messageText returns message_text from an envelope's message.
func messageText(e client.Envelope) string {
	var m struct {
		Text string `json:"message_text"`
	}
	_ = json.Unmarshal(e.Message, &m)
	return m.Text
}

// rawJSON does a raw HTTP request and decodes the {"code","message"} body.
func rawJSON(t *testing.T, method, url, body string, header map[string]string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: body is not JSON: %q", method, url, b)
		}
	}
	return resp.StatusCode, resp.Header, m
}

func publishURL(base string, stream int64, token string) string {
	return fmt.Sprintf("%s/publish/%d?token=%s", base, stream, token)
}

// rawSSE opens /subscribe/{stream} with a plain HTTP client and returns the
// response and its first n non-empty lines.
func rawSSE(t *testing.T, base string, stream int64, n int) (*http.Response, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/subscribe/%d", base, stream), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	var lines []string
	buf := make([]byte, 0, 4096)
	tmp := make([]byte, 4096)
	for len(lines) < n {
		k, err := resp.Body.Read(tmp)
		buf = append(buf, tmp[:k]...)
		for {
			i := strings.IndexByte(string(buf), '\n')
			if i < 0 {
				break
			}
			if line := string(buf[:i]); line != "" {
				lines = append(lines, line)
			}
			buf = buf[i+1:]
		}
		if err != nil {
			break
		}
	}
	if len(lines) < n {
		t.Fatalf("got %d lines %q; want %d", len(lines), lines, n)
	}
	return resp, lines
}

func clientStream(name string) client.CreateStreamParams {
	return client.CreateStreamParams{Name: name}
}
