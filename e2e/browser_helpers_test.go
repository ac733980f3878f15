package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// step bounds every browser action: a page that does not do what it should
// fails the test in seconds, not at the suite's timeout.
const step = 10 * time.Second

// chromiumPath finds Debian's Chromium, or returns "".
func chromiumPath() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// startBrowser starts one headless Chromium for a test and its subtests. It
// skips without Chromium, unless TIDINGS_REQUIRE_BROWSER=1 (CI) makes that a
// failure.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		const msg = "chromium not installed: apt-get install -y chromium"
		if os.Getenv("TIDINGS_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + " (TIDINGS_REQUIRE_BROWSER=1 makes this a failure)")
		}
		t.Skip(msg)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(900, 760),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first call starts the browser; its context must have no deadline
	// (it would bind the browser's life), so bound it from outside.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("starting %s: %v", path, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start within 30s", path)
	}
	v, err := chromedp.CallBrowser(ctx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		t.Fatalf("browser version: %v", err)
	}
	fmt.Printf("browser tests: running with %s (version %s)\n", path, v.Product)
	return ctx
}

// tab is one browser tab. JavaScript dialogs (alert) are accepted at once and
// their text recorded, so an alert never blocks the page.
type tab struct {
	t       *testing.T
	ctx     context.Context
	dialogs chan string
}

func newTab(t *testing.T, browserCtx context.Context) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		t.Fatalf("new tab: %v", err)
	}
	tb := &tab{t: t, ctx: ctx, dialogs: make(chan string, 16)}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			select {
			case tb.dialogs <- ev.Message:
			default:
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return tb
}

// do runs actions within one step's time.
func (tb *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, step)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v\npage shows:\n%s", what, err, tb.bodyText())
	}
}

// open loads url.
func (tb *tab) open(url string) {
	tb.t.Helper()
	tb.do("open "+url, chromedp.Navigate(url))
}

// waitFor polls a JavaScript expression until it is truthy. A poll does not
// survive a navigation, so it starts again on the new page.
func (tb *tab) waitFor(what, expr string) {
	tb.t.Helper()
	deadline := time.Now().Add(step)
	for {
		left := time.Until(deadline)
		ctx, cancel := context.WithTimeout(tb.ctx, left+time.Second)
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(left)))
		cancel()
		if err == nil {
			return
		}
		if errors.Is(err, chromedp.ErrPollingTimeout) || time.Now().After(deadline) {
			tb.t.Fatalf("waiting for %s (%s): %v\npage shows:\n%s", what, expr, err, tb.bodyText())
		}
		time.Sleep(50 * time.Millisecond) // navigating: try on the new page
	}
}

// texts returns the textContent of every element matching a CSS selector.
func (tb *tab) texts(selector string) []string {
	tb.t.Helper()
	return evalJS[[]string](tb, fmt.Sprintf(`Array.from(document.querySelectorAll(%q), e => e.textContent)`, selector))
}

// bodyText is what the page shows, for failure messages.
func (tb *tab) bodyText() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// dialog waits for the next alert and returns its text.
func (tb *tab) dialog(what string) string {
	tb.t.Helper()
	select {
	case msg := <-tb.dialogs:
		return msg
	case <-time.After(step):
		tb.t.Fatalf("no alert for %s within %s\npage shows:\n%s", what, step, tb.bodyText())
		return ""
	}
}

// noDialog fails if an alert was shown.
func (tb *tab) noDialog(what string) {
	tb.t.Helper()
	select {
	case msg := <-tb.dialogs:
		tb.t.Fatalf("%s: unexpected alert %q", what, msg)
	default:
	}
}

func evalJS[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, step)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// countOf is a JavaScript expression: how many elements matching selector
// have exactly the text want.
func countOf(selector, want string) string {
	return fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).filter(e => e.textContent === %s).length`, selector, jsString(want))
}

// chatSend types a name and a message into the chat example and sends it.
func (tb *tab) chatSend(name, text string) {
	tb.t.Helper()
	tb.waitFor("the send button", `!document.querySelector('#form button').disabled`)
	tb.do("send "+text,
		// The example remembers the last name; type over it.
		chromedp.Evaluate[chromedp.Void](`document.getElementById('username').value = ''`),
		chromedp.SendKeys(chromedp.ID("username"), name),
		chromedp.SendKeys(chromedp.ID("message"), text),
		chromedp.Click(chromedp.CSS("#form button")),
	)
	tb.waitFor("the sent message to come back", countOf("#list li", name+": "+text)+" > 0")
}

// exactlyOnce asserts that each of want is shown exactly once among the
// elements matching selector, and in that order.
func exactlyOnce(t *testing.T, got, want []string) {
	t.Helper()
	var mine []string
	wanted := map[string]bool{}
	for _, w := range want {
		wanted[w] = true
	}
	for _, g := range got {
		if wanted[g] {
			mine = append(mine, g)
		}
	}
	if strings.Join(mine, "\n") != strings.Join(want, "\n") {
		t.Fatalf("shown %q;\nwant each of %q exactly once, in order (all shown: %q)", mine, want, got)
	}
}
