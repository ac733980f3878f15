package e2e

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/tidings/tidings/client"
	"github.com/tidings/tidings/internal/server"
	"github.com/tidings/tidings/internal/testnode"
)

// banner collects what a node prints at start; the node writes it from its
// own goroutine.
type banner struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *banner) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *banner) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// demoPrinted is what the --demo banner tells a newcomer.
type demoPrinted struct {
	stream, widgetKey, apiKey string
}

var (
	demoStreamRE = regexp.MustCompile(`Demo stream id:\s+(\d+)`)
	demoKeyRE    = regexp.MustCompile(`Demo widget key:\s+(\S+)`)
	demoAdminRE  = regexp.MustCompile(`Admin API key:\s+(\S+)`)
)

// startDemoNode runs a node with Demo on dir, as `tidings serve --demo`
// does (no TIDINGS_API_KEY: the demo makes its own admin key), and returns
// it with what it printed.
func startDemoNode(t *testing.T, dir string) (*node, demoPrinted) {
	t.Helper()
	out := &banner{}
	srv, err := server.New(context.Background(), server.Config{DataDir: dir, Demo: true, Stdout: out})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	n := wrap(testnode.Serve(t, srv, "127.0.0.1:0"))
	text := out.String()
	var d demoPrinted
	for _, f := range []struct {
		re  *regexp.Regexp
		dst *string
	}{{demoStreamRE, &d.stream}, {demoKeyRE, &d.widgetKey}, {demoAdminRE, &d.apiKey}} {
		m := f.re.FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("the demo banner has no %q:\n%s", f.re, text)
		}
		*f.dst = m[1]
	}
	if curl := fmt.Sprintf("curl -N %s/subscribe/%s", n.URL, d.stream); !strings.Contains(text, curl) {
		t.Fatalf("the demo banner lacks %q:\n%s", curl, text)
	}
	if !strings.Contains(text, d.widgetKey+`","message"`) {
		t.Fatalf("the demo banner's publish command does not use the widget key:\n%s", text)
	}
	return n, d
}

// TestDemoIsCreatedOnce starts the demo twice on one data directory: the
// second start finds the first one's stream and widget and prints them
// again, with a fresh admin key that works (the previous one revoked).
func TestDemoIsCreatedOnce(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	first, d1 := startDemoNode(t, dir)
	first.stop()
	second, d2 := startDemoNode(t, dir)
	if d1.stream != d2.stream || d1.widgetKey != d2.widgetKey {
		t.Fatalf("second start printed stream %s, widget key %s; want the first start's %s, %s", d2.stream, d2.widgetKey, d1.stream, d1.widgetKey)
	}
	// Keys are kept only as hashes, so the demo's admin key cannot be
	// printed again: each start mints one and revokes the previous one.
	if d1.apiKey == d2.apiKey {
		t.Fatalf("both starts printed admin key %s; want a fresh one", d1.apiKey)
	}
	if _, err := client.New(second.URL, client.WithAPIKey(d1.apiKey)).ListStreams(ctx); !client.IsStatus(err, 401) {
		t.Fatalf("the first start's admin key after the second start: %v; want 401 (revoked)", err)
	}

	// What was printed works, and there is one demo, not two.
	admin := client.New(second.URL, client.WithAPIKey(d2.apiKey))
	sts, err := admin.ListStreams(ctx)
	if err != nil {
		t.Fatalf("the printed admin key: %v", err)
	}
	ws, err := admin.ListWidgets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 || fmt.Sprint(sts[0].ID) != d2.stream || string(sts[0].State) != "live" || len(ws) != 1 || ws[0].Key != d2.widgetKey {
		t.Fatalf("streams %+v, widgets %+v; want the one live demo stream %s and its widget", sts, ws, d2.stream)
	}
	sub := subscribe(t, second.anon(), sts[0].ID)
	if err := sub.Broadcast(ctx, d2.widgetKey, text("hello")); err != nil {
		t.Fatalf("broadcast with the printed widget key: %v", err)
	}
	if got := nextContent(t, sub); messageText(got) != "hello" {
		t.Fatalf("got %q; want hello", messageText(got))
	}
}
