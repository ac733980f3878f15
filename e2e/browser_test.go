package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tidings/tidings/internal/server"
)

// TestBrowser drives the examples, the SDK and tutorial-style code in a real
// headless Chromium. One browser serves every subtest; each subtest uses its
// own stream (or node) and tabs.
func TestBrowser(t *testing.T) {
	began := time.Now()
	b := startBrowser(t)
	n := startNode(t, server.Config{})
	t.Run("DemoPrintsWorkingURL", func(t *testing.T) { testDemo(t, b) })
	t.Run("ChatTwoTabsAndHistory", func(t *testing.T) { testChatTabs(t, b, n) })
	t.Run("ChatShowsHTMLAsText", func(t *testing.T) { testChatEscapes(t, b, n) })
	t.Run("BannerClicksAndLogs", func(t *testing.T) { testBanner(t, b, n) })
	t.Run("TutorialCodeFromSecondOrigin", func(t *testing.T) { testTutorialCode(t, b, n) })
	t.Run("ErrorsReachTheUser", func(t *testing.T) { testErrorsShown(t, b, n) })
	t.Run("SDKSurvivesServerRestart", func(t *testing.T) { testRestart(t, b) })
	t.Run("SDKSurvivesDroppedConnections", func(t *testing.T) { testDrops(t, b, n) })
	t.Run("TutorialCodeSurvivesDrops", func(t *testing.T) { testTutorialCodeSurvivesDrop(t, b, n) })
	t.Run("SDKRenewsTokenOnResume", func(t *testing.T) { testTokenRenewal(t, b) })
	t.Run("SDKDeliversReplayedMessagesOnce", func(t *testing.T) { testReplayDuplicates(t, b, n) })
	t.Run("SDKPrivateMessagesAndClose", func(t *testing.T) { testPrivateAndClose(t, b, n) })
	t.Run("SDKLostAndEnded", func(t *testing.T) { testLostAndEnded(t, b) })
	t.Run("ChatShowsRefusedSend", func(t *testing.T) { testFailedSend(t, b, n) })
	t.Run("ExamplesRefuseNonHTTPBase", func(t *testing.T) { testBaseURLCheck(t, b, n) })
	t.Logf("browser suite took %s", time.Since(began).Round(time.Millisecond))
}

// connected is true once an example page's status line says so.
const connected = `document.getElementById('status').textContent.startsWith('Connected as user')`

// examplePage is the URL of an example on n with a stream and widget key.
func examplePage(n *node, page string, stream int64, key string) string {
	return fmt.Sprintf("%s/examples/%s?stream=%d&key=%s", n.URL, page, stream, url.QueryEscape(key))
}

// testDemo is the newcomer's path: `tidings serve --demo` prints a URL, and
// the chat there works with no setup; the landing page links to it too.
func testDemo(t *testing.T, b context.Context) {
	chatURL, base := startDemo(t)
	ada := newTab(t, b)
	ada.open(chatURL)
	ada.waitFor("the printed chat URL to connect", connected)

	grace := newTab(t, b)
	grace.open(base + "/")
	grace.waitFor("the demo link", `!!document.getElementById('open-chat')`)
	grace.do("open the chat", chromedp.Click(chromedp.ID("open-chat")))
	grace.waitFor("the chat page", `location.pathname === '/examples/live-chat/' && `+connected)

	// From another origin, the base URL alone is enough: the rest comes from
	// the server's config.js (a cross-origin module import).
	elsewhere := newTab(t, b)
	elsewhere.open(repoServer(t).URL + "/examples/banner/?base=" + url.QueryEscape(base))
	elsewhere.waitFor("the banner from another origin", connected)
	ada.chatSend("Ada", "Hello! Is the demo stream live?")
	grace.chatSend("Grace", "It is. Open a second tab and you can chat with yourself.")
	ada.chatSend("Ada", "Every message arrives once, history included.")
	grace.waitFor("the last message", countOf("#list li", "Ada: Every message arrives once, history included.")+" === 1")
	ada.noDialog("demo chat")

	if os.Getenv("TIDINGS_UPDATE_SCREENSHOT") == "1" {
		ctx, cancel := context.WithTimeout(grace.ctx, step)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(820, 720)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile("../docs/screenshot-chat.png", png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("wrote docs/screenshot-chat.png")
	}
}

// testChatTabs: a message sent in one tab appears in both; a new tab and a
// reloaded tab show the earlier messages exactly once each.
func testChatTabs(t *testing.T, b context.Context, n *node) {
	stream, w := liveStream(t, n.admin())
	page := examplePage(n, "live-chat/", stream, w.Key)
	a, c := newTab(t, b), newTab(t, b)
	a.open(page)
	c.open(page)
	a.waitFor("tab A to connect", connected)
	c.waitFor("tab B to connect", connected)
	a.waitFor("the viewer count to reach tab A", `document.getElementById('status').textContent.endsWith('· 2 viewers')`)

	a.chatSend("alice", "hi from tab A")
	c.waitFor("tab A's message in tab B", countOf("#list li", "alice: hi from tab A")+" === 1")
	c.chatSend("bob", "hi from tab B")
	a.waitFor("tab B's message in tab A", countOf("#list li", "bob: hi from tab B")+" === 1")
	want := []string{"alice: hi from tab A", "bob: hi from tab B"}
	exactlyOnce(t, a.texts("#list li"), want)
	exactlyOnce(t, c.texts("#list li"), want)

	fresh := newTab(t, b)
	fresh.open(page)
	fresh.waitFor("the history in a new tab", countOf("#list li", "bob: hi from tab B")+" > 0")
	exactlyOnce(t, fresh.texts("#list li"), want)

	a.do("reload tab A", chromedp.Reload())
	a.waitFor("the history after a reload", countOf("#list li", "bob: hi from tab B")+" > 0")
	exactlyOnce(t, a.texts("#list li"), want)
	for _, tb := range []*tab{a, c, fresh} {
		tb.noDialog("chat")
	}
}

// testChatEscapes: names and messages with HTML are shown as text, live and
// from history, and run nothing.
func testChatEscapes(t *testing.T, b context.Context, n *node) {
	stream, w := liveStream(t, n.admin())
	page := examplePage(n, "live-chat/", stream, w.Key)
	name := `<img src=x onerror=alert(1)>`
	text := `<b>bold?</b><script>alert(2)</script><img src=y onerror="alert(3)">`
	shown := name + ": " + text

	sender, viewer := newTab(t, b), newTab(t, b)
	sender.open(page)
	viewer.open(page)
	viewer.waitFor("the viewer to connect", connected)
	sender.chatSend(name, text)
	viewer.waitFor("the message as text", countOf("#list li", shown)+" === 1")
	later := newTab(t, b)
	later.open(page)
	later.waitFor("the message as text from history", countOf("#list li", shown)+" === 1")

	time.Sleep(300 * time.Millisecond) // an injected onerror would have fired by now
	for _, tb := range []*tab{sender, viewer, later} {
		if got := evalJS[int](tb, `document.querySelectorAll('#list img, #list b, #list script').length`); got != 0 {
			t.Errorf("%d elements made from user text; want 0", got)
		}
		tb.noDialog("HTML in a chat message")
	}
}

// testBanner: N clicks give N log lines and counter N; a click while the
// logs page is open shows there at once.
func testBanner(t *testing.T, b context.Context, n *node) {
	stream, w := liveStream(t, n.admin())
	bannerTab := newTab(t, b)
	bannerTab.open(examplePage(n, "banner/", stream, w.Key))
	bannerTab.waitFor("the banner page to connect", connected)
	user := regexp.MustCompile(`user (\d+)`).FindStringSubmatch(bannerTab.texts("#status")[0])[1]

	click := func() { bannerTab.do("click the banner", chromedp.Click(chromedp.ID("banner"))) }
	click()
	click()
	logs := newTab(t, b)
	logs.open(examplePage(n, "banner/logs.html", stream, w.Key))
	logs.waitFor("2 logged clicks", `document.querySelectorAll('#logs li').length === 2`)
	if got := logs.texts("#click-counter")[0]; got != "2" {
		t.Fatalf("counter %q after 2 clicks; want 2", got)
	}

	click() // with the logs page open: it must update live
	logs.waitFor("the live click", `document.querySelectorAll('#logs li').length === 3 && document.getElementById('click-counter').textContent === '3'`)
	line := regexp.MustCompile(`^The user with ID ` + user + ` clicked the banner at .*` + strconv.Itoa(time.Now().Year()))
	for _, l := range logs.texts("#logs li") {
		if !line.MatchString(l) {
			t.Errorf("log line %q; want %s", l, line)
		}
	}

	logs.do("reload the logs page", chromedp.Reload())
	logs.waitFor("3 clicks after a reload", `document.querySelectorAll('#logs li').length === 3 && document.getElementById('click-counter').textContent === '3'`)
	bannerTab.noDialog("banner")
	logs.noDialog("logs")
}
