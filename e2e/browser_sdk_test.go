package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tidings/tidings/client"
	"github.com/tidings/tidings/internal/server"
)

// probePage is the SDK probe page, served from static, on stream of the
// server at base.
func probePage(static, base string, stream int64, key string) string {
	return fmt.Sprintf("%s/e2e/testdata/sdk-probe.html?base=%s&stream=%d&key=%s",
		static, url.QueryEscape(base), stream, url.QueryEscape(key))
}

// openProbe opens the SDK probe page and waits until it is connected.
func openProbe(t *testing.T, b context.Context, page string) *tab {
	t.Helper()
	p := newTab(t, b)
	p.open(page)
	p.waitFor("the SDK probe to connect", `window.ready === true || window.errors.length > 0`)
	if errs := evalJS[[]string](p, `window.errors`); len(errs) > 0 {
		t.Fatalf("SDK probe: %v", errs)
	}
	return p
}

// eventCount is a JavaScript expression: how many times the probe page saw
// the SDK event name.
func eventCount(name string) string {
	return fmt.Sprintf(`window.events.filter(e => e === %q).length`, name)
}

// call runs a JavaScript expression whose value is a promise (an SDK call)
// and returns "ok" once it resolves, or "<code>: <message>" if it rejects.
func (tb *tab) call(expr string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, step)
	defer cancel()
	js := `Promise.resolve().then(() => ` + expr + `).then(() => 'ok', (e) => (e && e.code) + ': ' + (e && e.message))`
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// chatMessage is the JavaScript literal of a chat message in the
// tutorial's shape.
func chatMessage(username, text string) string {
	b, _ := json.Marshal(map[string]string{"username": username, "type": "chat", "message_text": text})
	return string(b)
}

// testTokenRenewal: a node whose tokens live 2s. The probe's connection is
// cut and resumed (the resume renews the token); once the server refuses
// the first token, a broadcast from the page still goes through.
func testTokenRenewal(t *testing.T, b context.Context) {
	n := startNode(t, server.Config{TokenTTL: 2 * time.Second})
	stream, w := liveStream(t, n.admin())
	g := newGate(t, n.URL)
	p := openProbe(t, b, probePage(repoServer(t).URL, g.URL, stream, w.Key))
	first := evalJS[string](p, `window.channel.token`)
	if got := g.cut(); got != 1 {
		t.Fatalf("cut %d streams; want 1", got)
	}
	p.waitFor("a resume after the cut", eventCount("resumed")+" === 1")

	// The resume came after the retry delay (2s): the first token has
	// expired, or does within a second. Wait until the server refuses it
	// (401; a valid token with a wrong widget key would get 403), so the
	// broadcast below can only pass with a renewed token.
	env := client.Envelope{Type: client.TypeBroadcast, WidgetKey: "not-a-widget-key", Message: json.RawMessage(`{}`)}
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err := n.anon().Publish(context.Background(), stream, first, env)
		if client.IsStatus(err, 401) {
			break
		}
		if !client.IsStatus(err, 403) || time.Now().After(deadline) {
			t.Fatalf("publish with the first token: %v; want 401 (expired) soon after the TTL", err)
		}
	}
	if got := p.call(`window.channel.broadcast(` + chatMessage("ann", "after renewal") + `)`); got != "ok" {
		t.Fatalf("broadcast() after the first token expired: %s; want ok (with the token renewed on resume)", got)
	}
	p.waitFor("the broadcast to come back", `window.got.includes('after renewal')`)
	if renewed := evalJS[string](p, `window.channel.token`); renewed == first {
		t.Errorf("token unchanged across the resume")
	}
}

// testReplayDuplicates: a resume from an earlier point than the page had
// reached (as the SDK's own reconnect may ask) replays messages it already
// got; the SDK delivers each message once all the same.
func testReplayDuplicates(t *testing.T, b context.Context, n *node) {
	stream, w := liveStream(t, n.admin())
	g := newGate(t, n.URL)
	p := openProbe(t, b, probePage(repoServer(t).URL, g.URL, stream, w.Key))
	send := func(text string) {
		t.Helper()
		if got := p.call(`window.channel.broadcast(` + chatMessage("ann", text) + `)`); got != "ok" {
			t.Fatalf("broadcast %q: %s", text, got)
		}
		p.waitFor(text+" to come back", `window.got.includes(`+jsString(text)+`)`)
	}
	send("one")
	send("two")
	g.set(func(g *gate) { g.rewindIDs = true })
	if got := g.cut(); got != 1 {
		t.Fatalf("cut %d streams; want 1", got)
	}
	p.waitFor("a resume after the cut", eventCount("resumed")+" === 1")
	send("three")
	if got, want := evalJS[[]string](p, `window.got`), []string{"one", "two", "three"}; !slices.Equal(got, want) {
		t.Errorf("SDK delivered %q; want %q (each once)", got, want)
	}
	var replayed int
	g.set(func(g *gate) { replayed = g.rewound })
	if replayed < 3 {
		t.Errorf("%d broadcasts on the rewound connection; want one, two (replayed again) and three", replayed)
	}
}

// testPrivateAndClose: sendPrivate reaches its target alone, as a private
// event; close() rejects a pending history() call, closes the connection
// and stops events.
func testPrivateAndClose(t *testing.T, b context.Context, n *node) {
	stream, w := liveStream(t, n.admin())
	page := probePage(repoServer(t).URL, n.URL, stream, w.Key)
	alice, bob, carol := openProbe(t, b, page), openProbe(t, b, page), openProbe(t, b, page)
	aliceID := evalJS[string](alice, `window.channel.userId`)
	bobID := evalJS[string](bob, `window.channel.userId`)

	if got := alice.call(`window.channel.sendPrivate(` + jsString(bobID) + `, ` + chatMessage("alice", "psst") + `)`); got != "ok" {
		t.Fatalf("sendPrivate: %s", got)
	}
	// Messages arrive in the order stored: once everyone has this
	// broadcast, anyone who was to get the private message has it.
	if got := alice.call(`window.channel.broadcast(` + chatMessage("alice", "after the private") + `)`); got != "ok" {
		t.Fatalf("broadcast: %s", got)
	}
	for _, tb := range []*tab{alice, bob, carol} {
		tb.waitFor("the broadcast after the private message", `window.got.includes('after the private')`)
	}
	if got := evalJS[[]string](bob, `window.privates`); !slices.Equal(got, []string{aliceID + ": psst"}) {
		t.Errorf("target got private events %q; want [%q]", got, aliceID+": psst")
	}
	for name, tb := range map[string]*tab{"sender": alice, "bystander": carol} {
		if got := evalJS[[]string](tb, `window.privates`); len(got) != 0 {
			t.Errorf("%s got private events %q; want none", name, got)
		}
	}
	if got := evalJS[[]string](bob, `window.got`); slices.Contains(got, "psst") {
		t.Errorf("the private message came as a broadcast too: %q", got)
	}

	alice.waitFor("3 viewers", `window.channel.viewerCount === 3`)
	got := carol.call(`(() => { const p = window.channel.history(); window.channel.close(); return p; })()`)
	if !strings.HasPrefix(got, "0: ") || !strings.Contains(got, "closed") {
		t.Errorf("history() pending at close(): %s; want a rejection saying the channel was closed", got)
	}
	if got := evalJS[string](carol, `window.channel.state`); got != "closed" {
		t.Errorf("state %q after close(); want closed", got)
	}
	if got := carol.call(`window.channel.broadcast(` + chatMessage("carol", "from a closed channel") + `)`); !strings.HasPrefix(got, "0: ") || !strings.Contains(got, "closed") {
		t.Errorf("broadcast after close(): %s; want a rejection saying the channel is closed", got)
	}
	alice.waitFor("the closed tab to leave", `window.channel.viewerCount === 2`)
	if got := alice.call(`window.channel.broadcast(` + chatMessage("alice", "after close") + `)`); got != "ok" {
		t.Fatalf("broadcast: %s", got)
	}
	bob.waitFor("the broadcast after close", `window.got.includes('after close')`)
	if got := evalJS[[]string](carol, `window.got`); slices.Contains(got, "after close") {
		t.Errorf("closed channel still delivered a broadcast: %q", got)
	}
}

// testLostAndEnded: a node that keeps 3 broadcasts per stream and replays
// from the engine only. More than 3 broadcasts while the pages are away:
// the SDK reports `lost` after the replay and the chat reloads its history
// (what was trimmed goes). Then the stream ends: a page still connected
// gets the server's notice; pages away at that moment find out when they
// reconnect. Either way `ended`, and the chat says so without an alert.
func testLostAndEnded(t *testing.T, b context.Context) {
	n := startNode(t, server.Config{HistoryMaxMsgs: 3, ResumeBuffer: -1})
	stream, w := liveStream(t, n.admin())
	g := newGate(t, n.URL)
	static := repoServer(t).URL
	q := fmt.Sprintf("?base=%s&stream=%d&key=%s", url.QueryEscape(g.URL), stream, url.QueryEscape(w.Key))
	chat := newTab(t, b)
	chat.open(static + "/examples/live-chat/" + q)
	probe := openProbe(t, b, probePage(static, g.URL, stream, w.Key))
	direct := openProbe(t, b, probePage(static, n.URL, stream, w.Key))
	chat.waitFor("the chat to connect", connected)
	chat.chatSend("alice", "before the gap")
	probe.waitFor("alice's message", `window.got.includes('before the gap')`)

	if got := g.cut(); got != 2 {
		t.Fatalf("cut %d streams; want 2", got)
	}
	pub := subscribe(t, n.anon(), stream)
	var gap []string
	for i := 1; i <= 5; i++ { // sent within the 2s before the pages reconnect
		text := fmt.Sprintf("gap %d", i)
		if err := pub.Broadcast(context.Background(), w.Key, map[string]string{
			"username": "bob", "type": "chat", "message_text": text}); err != nil {
			t.Fatal(err)
		}
		gap = append(gap, "bob: "+text)
	}
	probe.waitFor("the loss notice", eventCount("lost")+" === 1")
	chat.waitFor("the chat to reload the trimmed history",
		countOf("#list li", "alice: before the gap")+" === 0 && "+countOf("#list li", "bob: gap 5")+" === 1")
	exactlyOnce(t, chat.texts("#list li"), gap[2:])
	if got := chat.texts("#list li"); len(got) != 3 {
		t.Errorf("chat shows %q after the reload; want the 3 kept messages only", got)
	}
	if got, want := evalJS[[]string](probe, `window.got`), []string{"before the gap", "gap 3", "gap 4", "gap 5"}; !slices.Equal(got, want) {
		t.Errorf("SDK delivered %q; want %q (the replay is what history kept)", got, want)
	}

	// The gated pages are away (seen as such) when the stream ends.
	g.cut()
	probe.waitFor("the probe to see the cut", `window.channel.state === 'reconnecting'`)
	chat.waitFor("the chat to see the cut", `document.getElementById('status').textContent.startsWith('Connection lost')`)
	if _, err := n.admin().EndStream(context.Background(), stream); err != nil {
		t.Fatalf("EndStream: %v", err)
	}
	direct.waitFor("the end notice", eventCount("ended")+" === 1")
	if got := evalJS[string](direct, `window.details.ended.message`); !strings.Contains(got, "has ended") {
		t.Errorf("ended on an open connection with %q; want the server's notice", got)
	}
	probe.waitFor("the end, found on reconnecting", eventCount("ended")+" === 1")
	found := evalJS[string](probe, `window.details.ended.message`)
	if !strings.Contains(found, "cannot be subscribed") {
		t.Errorf("ended while away with %q; want the server's answer to the reconnect", found)
	}
	if got := evalJS[[]string](probe, `window.events`); slices.Contains(got, "error") || got[len(got)-2] != "state:closed" {
		t.Errorf("SDK events %q; want the channel closed, then ended, and no error event", got)
	}
	chat.waitFor("the chat to say the stream ended",
		`document.getElementById('status').textContent === `+jsString(found)+` && document.querySelector('#form button').disabled`)
	chat.noDialog("stream end while reconnecting")
}

// testFailedSend: the widget key is regenerated after the chat loaded (its
// history request went through); sending then shows the server's 403
// message, and the typed message is kept.
func testFailedSend(t *testing.T, b context.Context, n *node) {
	stream, w := liveStream(t, n.admin())
	chat := newTab(t, b)
	chat.open(examplePage(n, "live-chat/", stream, w.Key))
	chat.waitFor("the chat to connect", connected)
	chat.chatSend("alice", "with the old key") // shown only once the history reply is in
	if _, err := n.admin().RegenerateWidgetKey(context.Background(), w.ID); err != nil {
		t.Fatalf("RegenerateWidgetKey: %v", err)
	}
	const text = "after the key changed"
	chat.do("send "+text,
		chromedp.SendKeys(chromedp.ID("message"), text),
		chromedp.Click(chromedp.CSS("#form button")),
	)
	const want = "widget_key is not valid"
	if got := chat.dialog("the refused broadcast"); !strings.Contains(got, want) {
		t.Fatalf("alert %q; want the server's message %q", got, want)
	}
	chat.waitFor("the error in the status line and the message kept",
		`document.getElementById('status').textContent.startsWith('Error: widget_key is not valid') && `+
			`document.getElementById('message').value === `+jsString(text)+` && !document.querySelector('#form button').disabled`)
	if got := evalJS[int](chat, countOf("#list li", "alice: "+text)); got != 0 {
		t.Errorf("the refused message is shown %d times; want 0", got)
	}
	chat.noDialog("a refused broadcast")
}

// testBaseURLCheck: a base URL that is not http(s) (it would end up in
// link hrefs and in import()) gets the setup form with a clear message,
// and no link on the page uses it.
func testBaseURLCheck(t *testing.T, b context.Context, n *node) {
	stream, w := liveStream(t, n.admin())
	for _, c := range []struct{ page, base string }{
		{"live-chat/", "javascript:alert(1)//"},
		{"banner/", "javascript:alert(1)//"},
		{"banner/", "data:text/html,<script>alert(2)</script>"},
		{"live-chat/", "not a url"},
	} {
		t.Run(c.page+" "+c.base, func(t *testing.T) {
			tb := newTab(t, b)
			tb.open(examplePage(n, c.page, stream, w.Key) + "&base=" + url.QueryEscape(c.base))
			tb.waitFor("the setup form", `!!document.getElementById('setup')`)
			if got := tb.texts("#setup p")[0]; !strings.Contains(got, "must start with http:// or https://") {
				t.Errorf("form says %q; want it to say the server URL must be http(s)", got)
			}
			if bad := evalJS[[]string](tb, `Array.from(document.querySelectorAll('a[href]'), a => a.href).filter(h => !/^https?:/i.test(h))`); len(bad) > 0 {
				t.Errorf("links %q; want only http(s) links", bad)
			}
			if got := evalJS[string](tb, `document.getElementById('status').textContent`); strings.HasPrefix(got, "Connected") {
				t.Errorf("status %q; want no connection", got)
			}
			tb.noDialog("a non-http base URL")
		})
	}
}
