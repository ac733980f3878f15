package e2e

import (
	"context"
	"testing"
)

// testTutorialCodeSurvivesDrop: a page written the tutorials' way (plain
// EventSource, history requested on every init) keeps showing each message
// exactly once across dropped connections: EventSource reconnects with its
// last event id, the server replays what was missed and sends no second
// init, so the page neither loses nor repeats anything.
func testTutorialCodeSurvivesDrop(t *testing.T, b context.Context, n *node) {
	stream, w := liveStream(t, n.admin())
	g := newGate(t, n.URL)
	site := tutorialServer(t, g.URL, stream, w.Key)
	raw := newTab(t, b)
	raw.open(site.URL + "/")
	raw.waitFor("the tutorial's token", `typeof token === 'string' && token !== ''`)

	pub := subscribe(t, n.anon(), stream)
	say := func(text string) {
		t.Helper()
		if err := pub.Broadcast(context.Background(), w.Key, map[string]string{
			"username": "bob", "type": "chat", "message_text": text}); err != nil {
			t.Fatal(err)
		}
	}
	raw.chatSend("carol", "before")
	raw.waitFor("carol's message", countOf("#list li", "carol: before")+" === 1")
	for round, text := range []string{"during first drop", "during second drop"} {
		if got := g.cut(); got != 1 {
			t.Fatalf("round %d: cut %d streams; want 1", round, got)
		}
		say(text) // published while the page is away
		raw.waitFor("the missed message after the reconnect", countOf("#list li", "bob: "+text)+" === 1")
	}
	raw.chatSend("carol", "after") // the token still works
	raw.waitFor("carol's last message", countOf("#list li", "carol: after")+" === 1")
	exactlyOnce(t, raw.texts("#list li"), []string{"carol: before", "bob: during first drop", "bob: during second drop", "carol: after"})
	raw.noDialog("tutorial code across drops")
}
