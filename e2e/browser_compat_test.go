package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tidings/tidings/client"
	"github.com/tidings/tidings/internal/server"
)

// tutorialServer serves the live chat tutorial's code from its own origin,
// with only what the tutorial says to change (base URL, stream id, widget
// key) changed.
func tutorialServer(t *testing.T, base string, stream int64, key string) *httptest.Server {
	t.Helper()
	page, err := os.ReadFile("testdata/tutorial-chat/index.html")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("testdata/tutorial-chat/script.js")
	if err != nil {
		t.Fatal(err)
	}
	js := string(script)
	for old, repl := range map[string]string{
		"https://channel.inlive.app": base,
		"const streamId = 15;":       fmt.Sprintf("const streamId = %d;", stream),
		"<YOUR_WIDGET_KEY>":          key,
	} {
		if strings.Count(js, old) != 1 {
			t.Fatalf("tutorial script has %d of %q; want 1", strings.Count(js, old), old)
		}
		js = strings.Replace(js, old, repl, 1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.HandleFunc("GET /script.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write([]byte(js))
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

// testTutorialCode: the tutorial's own code (EventSource and fetch only),
// served from a second origin, works against Tidings in a real browser:
// CORS, init → token → broadcast, request → history. It shares a stream
// with the SDK example, in both directions.
func testTutorialCode(t *testing.T, b context.Context, n *node) {
	stream, w := liveStream(t, n.admin())
	site := tutorialServer(t, n.URL, stream, w.Key)
	if site.URL == n.URL {
		t.Fatal("the tutorial page must come from another origin")
	}
	raw, sdk := newTab(t, b), newTab(t, b)
	raw.open(site.URL + "/")
	sdk.open(examplePage(n, "live-chat/", stream, w.Key))
	raw.waitFor("the tutorial's token", `typeof token === 'string' && token !== ''`)
	sdk.waitFor("the SDK chat to connect", connected)

	raw.chatSend("carol", "hello from tutorial code")
	sdk.waitFor("the tutorial's message in the SDK chat", countOf("#list li", "carol: hello from tutorial code")+" === 1")
	sdk.chatSend("dave", "hello from the SDK")
	raw.waitFor("the SDK's message in the tutorial page", countOf("#list li", "dave: hello from the SDK")+" === 1")

	later := newTab(t, b)
	later.open(site.URL + "/")
	later.waitFor("the history in tutorial code", countOf("#list li", "dave: hello from the SDK")+" === 1")
	want := []string{"carol: hello from tutorial code", "dave: hello from the SDK"}
	exactlyOnce(t, later.texts("#list li"), want)
	exactlyOnce(t, raw.texts("#list li"), want)
	for _, tb := range []*tab{raw, sdk, later} {
		tb.noDialog("tutorial code")
	}
}

// testErrorsShown: a wrong widget key or an unknown stream is shown to the
// user with the server's own message, in the example and in tutorial code.
func testErrorsShown(t *testing.T, b context.Context, n *node) {
	stream, w := liveStream(t, n.admin())
	cases := []struct {
		name, url, want string
	}{
		{"wrong widget key, SDK example", examplePage(n, "live-chat/", stream, "not-a-widget-key"), "widget_key is not valid"},
		{"unknown stream, SDK example", examplePage(n, "live-chat/", 999999, w.Key), "stream 999999 not found"},
		{"wrong widget key, tutorial code", tutorialServer(t, n.URL, stream, "not-a-widget-key").URL + "/", "widget_key is not valid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb := newTab(t, b)
			tb.open(c.url)
			if got := tb.dialog(c.name); !strings.Contains(got, c.want) {
				t.Fatalf("alert %q; want the server's message %q", got, c.want)
			}
		})
	}
	t.Run("refused webhook rejects", func(t *testing.T) {
		// Loopback targets are refused (or, before webhooks, the type is):
		// either way the promise must reject with the server's answer.
		tb := newTab(t, b)
		tb.open(fmt.Sprintf("%s/e2e/testdata/sdk-probe.html?base=%s&stream=%d&key=%s",
			repoServer(t).URL, url.QueryEscape(n.URL), stream, url.QueryEscape(w.Key)))
		tb.waitFor("the SDK probe to connect", `window.ready === true`)
		tb.do("call webhook()", chromedp.Evaluate[chromedp.Void](`window.channel.webhook('http://127.0.0.1:9/hook', {n: 1}).then(
			() => { window.hook = 'resolved'; },
			(e) => { window.hook = JSON.stringify({name: e.name, code: e.code, message: e.message}); })`))
		tb.waitFor("webhook() to settle", `!!window.hook`)
		var got struct {
			Name    string
			Code    int
			Message string
		}
		if err := json.Unmarshal([]byte(evalJS[string](tb, `window.hook`)), &got); err != nil ||
			got.Name != "TidingsError" || got.Code < 400 || got.Message == "" {
			t.Fatalf("webhook() settled with %s; want a TidingsError with the server's code and message", evalJS[string](tb, `window.hook`))
		}
		t.Logf("webhook() rejected: %d %s", got.Code, got.Message)
	})
}

// testRestart: the server stops (gracefully: it tells subscribers to
// reconnect) and starts again on the same address and data. Messages stored
// while the browsers were away are replayed, and every message shows
// exactly once: in the chat example and in the raw SDK events. Both pages
// come from a static file server on another origin.
func testRestart(t *testing.T, b context.Context) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	first := startNodeOn(t, server.Config{DataDir: dir}, addr)
	stream, w := liveStream(t, first.admin())
	static := repoServer(t)
	q := fmt.Sprintf("?base=%s&stream=%d&key=%s", url.QueryEscape(first.URL), stream, url.QueryEscape(w.Key))

	chat, probe := newTab(t, b), newTab(t, b)
	chat.open(static.URL + "/examples/live-chat/" + q)
	probe.open(static.URL + "/e2e/testdata/sdk-probe.html" + q)
	chat.waitFor("the chat to connect", connected)
	probe.waitFor("the SDK probe to connect", `window.ready === true || window.errors.length > 0`)
	if errs := evalJS[[]string](probe, `window.errors`); len(errs) > 0 {
		t.Fatalf("SDK probe: %v", errs)
	}

	// A publisher whose token outlives the restart (same data, same secret).
	pub := subscribe(t, first.anon(), stream)
	token := pub.Token()
	pub.Close()
	say := func(base, text string) {
		t.Helper()
		msg, _ := json.Marshal(map[string]string{"username": "bob", "type": "chat", "message_text": text})
		env := client.Envelope{Type: client.TypeBroadcast, WidgetKey: w.Key, Message: msg}
		if err := client.New(base).Publish(context.Background(), stream, token, env); err != nil {
			t.Fatalf("publish %q: %v", text, err)
		}
	}

	chat.chatSend("alice", "before 1")
	say(first.URL, "before 2")
	probe.waitFor("before 2", `window.got.includes('before 2')`)
	first.stop()

	// Store two messages before the node listens again, so no browser can
	// have reconnected yet: they must come as a replay.
	srv := newNodeServer(t, server.Config{DataDir: dir})
	for _, text := range []string{"gap 1", "gap 2"} {
		msg, _ := json.Marshal(map[string]any{"type": "broadcast", "widget_key": w.Key,
			"message": map[string]string{"username": "bob", "type": "chat", "message_text": text}})
		if err := srv.Channel().Publish(context.Background(), stream, token, msg, ""); err != nil {
			srv.Close()
			t.Fatalf("publish %q while offline: %v", text, err)
		}
	}
	second := serveNode(t, srv, addr)

	chat.waitFor("the replayed messages", countOf("#list li", "bob: gap 2")+" > 0")
	probe.waitFor("the replayed messages", `window.got.includes('gap 2')`)
	chat.chatSend("alice", "after 1") // publishes with the token kept (or renewed) across the resume
	say(second.URL, "after 2")
	chat.waitFor("the last message", countOf("#list li", "bob: after 2")+" > 0")
	probe.waitFor("the last message", `window.got.includes('after 2')`)

	texts := []string{"before 1", "before 2", "gap 1", "gap 2", "after 1", "after 2"}
	lines := []string{"alice: before 1", "bob: before 2", "bob: gap 1", "bob: gap 2", "alice: after 1", "bob: after 2"}
	exactlyOnce(t, chat.texts("#list li"), lines)
	if got := evalJS[[]string](probe, `window.got`); !slices.Equal(got, texts) {
		t.Errorf("SDK delivered %q; want %q (each once, in order)", got, texts)
	}
	events := evalJS[[]string](probe, `window.events`)
	t.Logf("SDK events across the restart: %q", events)
	if !slices.Contains(events, "resumed") || slices.Contains(events, "reset") {
		t.Errorf("SDK events %q; want a resume, not a new session", events)
	}
	chat.noDialog("restart")
}
