package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/client"
	"github.com/tidings/tidings/internal/server"
)

// Every refusal is JSON {"code":<status>,"message":"…"} with the matching
// HTTP status and a message that says what is wrong.
func TestPublishErrors(t *testing.T) {
	// One webhook per widget per 1000 s: the first takes the only token.
	n := startNode(t, server.Config{MaxBody: 1024, Webhooks: server.WebhookConfig{AllowPrivate: true, Rate: 0.001}})
	admin := n.admin()
	ctx := context.Background()
	stream, w := liveStream(t, admin)
	sub := subscribe(t, n.anon(), stream)
	tok := sub.Token()

	notStarted, err := admin.CreateStream(ctx, clientStream("not started"))
	if err != nil {
		t.Fatal(err)
	}
	ended, _ := liveStream(t, admin)
	endedSub := subscribe(t, n.anon(), ended)
	endedTok := endedSub.Token()
	if _, err := admin.EndStream(ctx, ended); err != nil {
		t.Fatal(err)
	}
	other, _ := liveStream(t, admin)
	otherSub := subscribe(t, n.anon(), other)

	good := fmt.Sprintf(`{"type":"broadcast","widget_key":%q,"message":{"a":1}}`, w.Key)
	tests := []struct {
		name    string
		url     string
		body    string
		status  int
		message string // a substring the person reading it needs
	}{
		{"missing token", fmt.Sprintf("%s/publish/%d", n.URL, stream), good, 401, "token is required"},
		{"bad token", publishURL(n.URL, stream, "nope"), good, 401, "token is not valid"},
		{"tampered token", publishURL(n.URL, stream, tok[:len(tok)-3]+"AAA"), good, 401, "token is not valid"},
		{"token of another stream", publishURL(n.URL, stream, otherSub.Token()), good, 401, "another stream"},
		{"unknown widget key", publishURL(n.URL, stream, tok), `{"type":"broadcast","widget_key":"00000000-0000-4000-8000-000000000000","message":1}`, 403, "widget_key is not valid"},
		{"missing widget key", publishURL(n.URL, stream, tok), `{"type":"broadcast","message":1}`, 400, "widget_key is required"},
		{"unknown stream", publishURL(n.URL, 99999, tok), good, 404, "stream 99999 not found"},
		{"non-numeric stream", publishURL(n.URL, 0, tok) + "x", good, 404, "not found"},
		{"stream not started", publishURL(n.URL, notStarted.ID, tok), good, 409, "not live yet"},
		{"stream ended", publishURL(n.URL, ended, endedTok), good, 410, "has ended"},
		// The stream is judged before the token and the body: the SDK's
		// probe relies on a bare POST telling a dead stream from a live one.
		{"ended stream, bare request", fmt.Sprintf("%s/publish/%d", n.URL, ended), "", 410, "has ended"},
		{"unknown stream, bare request", fmt.Sprintf("%s/publish/%d", n.URL, 99999), "", 404, "not found"},
		{"live stream, bare request", fmt.Sprintf("%s/publish/%d", n.URL, stream), "", 401, "token is required"},
		{"malformed JSON", publishURL(n.URL, stream, tok), `{"type":"broadcast",`, 400, "not a valid JSON envelope"},
		{"missing message", publishURL(n.URL, stream, tok), fmt.Sprintf(`{"type":"broadcast","widget_key":%q}`, w.Key), 400, "message is required"},
		{"private without target", publishURL(n.URL, stream, tok), fmt.Sprintf(`{"type":"private","widget_key":%q,"message":1}`, w.Key), 400, "to_user_id is required"},
		{"missing type", publishURL(n.URL, stream, tok), fmt.Sprintf(`{"widget_key":%q,"message":1}`, w.Key), 400, "type is required"},
		{"server-only type", publishURL(n.URL, stream, tok), fmt.Sprintf(`{"type":"system","widget_key":%q,"message":1}`, w.Key), 400, "server only"},
		{"body too large", publishURL(n.URL, stream, tok), fmt.Sprintf(`{"type":"broadcast","widget_key":%q,"message":%q}`, w.Key, strings.Repeat("x", 2000)), 413, "larger than the limit of 1024 bytes"},
		{"webhook host not allowed", publishURL(n.URL, stream, tok), fmt.Sprintf(`{"type":"webhook","widget_key":%q,"message":{"url":"https://example.com"}}`, w.Key), 403, `webhook host "example.com:443" is not allowed`},
		{"webhook without url", publishURL(n.URL, stream, tok), fmt.Sprintf(`{"type":"webhook","widget_key":%q,"message":{"to":"x"}}`, w.Key), 400, "message.url is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := rawJSON(t, http.MethodPost, tc.url, tc.body, map[string]string{"Content-Type": "application/json"})
			checkError(t, status, body, tc.status, tc.message)
		})
	}

	t.Run("webhook rate limited", func(t *testing.T) {
		recv := newHookReceiver(t, status(200))
		hw := hookWidget(t, admin, recv.host())
		if err := publishHook(sub, hw.Key, recv.URL); err != nil {
			t.Fatalf("first webhook: %v; want it accepted", err)
		}
		if r, _ := nextResult(t, sub); !r.OK {
			t.Fatalf("first webhook result %+v; want ok", r)
		}
		hook := fmt.Sprintf(`{"type":"webhook","widget_key":%q,"message":{"url":%q}}`, hw.Key, recv.URL)
		status, hdr, body := rawJSON(t, http.MethodPost, publishURL(n.URL, stream, tok), hook, map[string]string{"Content-Type": "application/json"})
		checkError(t, status, body, 429, "too many webhooks")
		if secs, err := strconv.Atoi(hdr.Get("Retry-After")); err != nil || secs < 1 {
			t.Errorf("Retry-After %q; want a positive number of seconds", hdr.Get("Retry-After"))
		}
		// Refused, so never queued: no second call, no second result.
		quiet(t, sub, 300*time.Millisecond, "a result for the refused webhook", ofType(client.TypeWebhook))
		if calls := recv.seen(); len(calls) != 1 {
			t.Errorf("receiver got %d calls; want 1 (the refused webhook must reach nothing)", len(calls))
		}
	})
}

func TestSubscribeErrors(t *testing.T) {
	n := startNode(t, server.Config{})
	admin := n.admin()
	ctx := context.Background()
	notStarted, err := admin.CreateStream(ctx, clientStream("not started"))
	if err != nil {
		t.Fatal(err)
	}
	ended, _ := liveStream(t, admin)
	if _, err := admin.EndStream(ctx, ended); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		status  int
		message string
	}{
		{"unknown", "/subscribe/424242", 404, "stream 424242 not found"},
		{"not a number", "/subscribe/abc", 404, "not found"},
		{"not started", fmt.Sprintf("/subscribe/%d", notStarted.ID), 409, "not live yet"},
		{"ended", fmt.Sprintf("/subscribe/%d", ended), 410, "has ended"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := rawJSON(t, http.MethodGet, n.URL+tc.path, "", nil)
			checkError(t, status, body, tc.status, tc.message)
			if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q; want JSON, not an event stream", ct)
			}
		})
	}
}

func TestManagementErrors(t *testing.T) {
	n := startNode(t, server.Config{})
	auth := map[string]string{"Authorization": "Bearer " + adminKey, "Content-Type": "application/json"}
	tok, err := n.admin().CreateAccessToken(context.Background(), 60)
	if err != nil {
		t.Fatal(err)
	}
	withToken := map[string]string{"Authorization": "Bearer " + tok.Token, "Content-Type": "application/json"}
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		header  map[string]string
		status  int
		message string
	}{
		{"no credentials", "GET", "/v1/streams", "", nil, 401, "missing credentials"},
		{"wrong key", "GET", "/v1/streams", "", map[string]string{"Authorization": "Bearer tdk_wrong"}, 401, "invalid application key"},
		{"name required", "POST", "/v1/streams/create", `{"slug":"x"}`, auth, 400, "name is required"},
		{"bad JSON", "POST", "/v1/streams/create", `{"name":`, auth, 400, "not valid JSON"},
		{"unknown field", "POST", "/v1/widgets", `{"name":"w","colour":"red"}`, auth, 400, "colour"},
		{"trailing garbage", "POST", "/v1/streams/create", `{"name":"a"} junk`, auth, 400, "after the JSON value"},
		{"two JSON values", "POST", "/v1/widgets", `{"name":"a"}{"name":"b"}`, auth, 400, "after the JSON value"},
		{"slug of punctuation", "POST", "/v1/streams/create", `{"name":"a","slug":"!!!"}`, auth, 400, "has no letters or digits"},
		{"slug of non-ASCII", "POST", "/v1/streams/create", `{"name":"a","slug":"日本語"}`, auth, 400, "has no letters or digits"},
		{"access token mints a token", "POST", "/v1/keys/accesstoken", `{"expiry_seconds":60}`, withToken, 403, "only be minted with an application key"},
		{"unknown stream", "GET", "/v1/streams/777", "", auth, 404, "stream 777 not found"},
		{"unknown widget", "DELETE", "/v1/widgets/777", "", auth, 404, "widget 777 not found"},
		{"bad expiry", "POST", "/v1/keys/accesstoken", `{"expiry_seconds":0}`, auth, 400, "expiry_seconds"},
		{"bad webhook host", "POST", "/v1/widgets", `{"name":"w","webhook_hosts":["https://x.com/path"]}`, auth, 400, "webhook_hosts"},
		{"webhook host with empty port", "POST", "/v1/widgets", `{"name":"w","webhook_hosts":["x.com:"]}`, auth, 400, "give a port or drop the colon"},
		{"no such endpoint", "GET", "/v1/nothing", "", auth, 404, "no such endpoint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := rawJSON(t, tc.method, n.URL+tc.path, tc.body, tc.header)
			checkError(t, status, body, tc.status, tc.message)
		})
	}

	// A known path with a method it does not take: 405 with Allow, in the
	// same JSON as every other error; an unknown path stays 404.
	wrongMethod := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/publish/1", 405, "POST"},
		{"POST", "/subscribe/1", 405, "GET, HEAD"},
		{"DELETE", "/v1/streams", 405, "GET, HEAD"},
		{"PUT", "/v1/widgets/1", 405, "GET, HEAD, PATCH, DELETE"},
		{"GET", "/v1/streams/1/start", 405, "POST"},
		{"PATCH", "/v1/nothing", 404, ""},
	}
	for _, tc := range wrongMethod {
		t.Run("wrong method "+tc.method+" "+tc.path, func(t *testing.T) {
			status, hdr, body := rawJSON(t, tc.method, n.URL+tc.path, "", auth)
			want := "no such endpoint"
			if tc.status == 405 {
				want = "method " + tc.method + " is not allowed on " + tc.path
			}
			checkError(t, status, body, tc.status, want)
			if got := hdr.Get("Allow"); got != tc.allow {
				t.Errorf("Allow %q; want %q", got, tc.allow)
			}
		})
	}
}

func checkError(t *testing.T, status int, body map[string]any, wantStatus int, wantMsg string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("status %d; want %d (body %v)", status, wantStatus, body)
	}
	if code, _ := body["code"].(float64); int(code) != wantStatus {
		t.Errorf("body code %v; want %d", body["code"], wantStatus)
	}
	if msg, _ := body["message"].(string); !strings.Contains(msg, wantMsg) {
		t.Errorf("message %q; want it to mention %q", msg, wantMsg)
	}
}

func TestCORS(t *testing.T) {
	n := startNode(t, server.Config{})
	stream, _ := liveStream(t, n.admin())
	t.Run("preflight", func(t *testing.T) {
		for _, path := range []string{fmt.Sprintf("/publish/%d?token=x", stream), "/v1/streams", fmt.Sprintf("/subscribe/%d", stream)} {
			req, _ := http.NewRequest(http.MethodOptions, n.URL+path, nil)
			req.Header.Set("Origin", "http://other.example:5173")
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "content-type, authorization")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Errorf("%s: preflight status %d; want 204", path, resp.StatusCode)
			}
			h := resp.Header
			if h.Get("Access-Control-Allow-Origin") != "*" ||
				!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
				!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "content-type") ||
				!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") {
				t.Errorf("%s: preflight headers %v", path, h)
			}
		}
	})
	t.Run("errors carry CORS headers too", func(t *testing.T) {
		_, hdr, _ := rawJSON(t, http.MethodPost, publishURL(n.URL, stream, "bad"), `{}`, map[string]string{"Origin": "http://x"})
		if hdr.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("error response lacks Access-Control-Allow-Origin: %v", hdr)
		}
		_, hdr, _ = rawJSON(t, http.MethodGet, n.URL+"/v1/streams", "", nil)
		if hdr.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(hdr.Get("Access-Control-Expose-Headers"), "X-Access-Token-Expired") {
			t.Errorf("API response CORS headers %v", hdr)
		}
	})
}
