package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// gate is an HTTP proxy in front of a node that a test uses to break the
// browser's connection in the ways networks and servers do: cut it, refuse
// the reconnect with an HTTP error, or lose the resume id on the way.
type gate struct {
	*httptest.Server
	mu        sync.Mutex
	streams   map[int]context.CancelFunc
	nextID    int
	refusing  bool
	refused   int
	forgetIDs bool
	rewindIDs bool // resume subscribes from the stream's start instead
	rewound   int  // broadcasts sent on rewound subscribes
}

func newGate(t *testing.T, backend string) *gate {
	t.Helper()
	target, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{streams: map[int]context.CancelFunc{}}
	proxy := httputil.NewSingleHostReverseProxy(target) // flushes text/event-stream at once
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/subscribe/") {
			proxy.ServeHTTP(w, r)
			return
		}
		g.mu.Lock()
		if g.refusing {
			g.refused++
			g.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"code":503,"message":"gate: refused for the test"}`)
			return
		}
		if g.forgetIDs {
			r.Header.Del("Last-Event-ID")
			q := r.URL.Query()
			q.Del("lastEventId")
			r.URL.RawQuery = q.Encode()
		}
		if g.rewindIDs && rewind(r) {
			w = &broadcastCounter{ResponseWriter: w, g: g}
		}
		ctx, cancel := context.WithCancel(r.Context())
		id := g.nextID
		g.nextID++
		g.streams[id] = cancel
		g.mu.Unlock()
		defer func() {
			g.mu.Lock()
			delete(g.streams, id)
			g.mu.Unlock()
			cancel()
		}()
		proxy.ServeHTTP(w, r.WithContext(ctx))
	}))
	t.Cleanup(g.Close)
	return g
}

// rewind replaces the sequence in a resume id (header or query) by 0, the
// way a client that reconnects with an old id asks for messages it already
// has. It reports whether there was an id to rewind.
func rewind(r *http.Request) bool {
	back := func(id string) string { return id[:strings.LastIndex(id, "-")+1] + "0" }
	if id := r.Header.Get("Last-Event-ID"); strings.Contains(id, "-") {
		r.Header.Set("Last-Event-ID", back(id))
		return true
	}
	q := r.URL.Query()
	if id := q.Get("lastEventId"); strings.Contains(id, "-") {
		q.Set("lastEventId", back(id))
		r.URL.RawQuery = q.Encode()
		return true
	}
	return false
}

// broadcastCounter counts the broadcasts a rewound subscribe gets (each
// SSE event is written whole).
type broadcastCounter struct {
	http.ResponseWriter
	g *gate
}

func (c *broadcastCounter) Write(p []byte) (int, error) {
	n := strings.Count(string(p), `"type":"broadcast"`)
	c.g.set(func(g *gate) { g.rewound += n })
	return c.ResponseWriter.Write(p)
}

func (c *broadcastCounter) Flush() { http.NewResponseController(c.ResponseWriter).Flush() }

func (c *broadcastCounter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// cut ends every open event stream, as a dropped connection does (no
// reconnect notice). It returns how many it cut.
func (g *gate) cut() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, cancel := range g.streams {
		cancel()
	}
	return len(g.streams)
}

func (g *gate) set(f func(g *gate)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f(g)
}

// refuse answers every subscribe with 503 until allow.
func (g *gate) refuse() {
	g.set(func(g *gate) { g.refusing, g.refused = true, 0 })
}

// allow stops refusing once n subscribes (the browsers' attempts; the SDK
// asks /publish why, which the gate passes) were refused, so the test knows
// the refusal was seen.
func (g *gate) allow(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(step); ; time.Sleep(20 * time.Millisecond) {
		g.mu.Lock()
		seen := g.refused
		if seen >= n || time.Now().After(deadline) {
			g.refusing = false
		}
		g.mu.Unlock()
		if seen >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribes refused within %s; want %d", seen, step, n)
		}
	}
}

// testDrops: the SDK (and the chat built on it) through a refused first
// connect and three kinds of broken connection: a plain cut (EventSource resumes), a reconnect refused
// with an HTTP error (EventSource gives up; the SDK reconnects itself and
// resumes), and a resume the server cannot honour (a fresh init: the chat
// clears and reloads). Every message is shown exactly once throughout.
func testDrops(t *testing.T, b context.Context, n *node) {
	stream, w := liveStream(t, n.admin())
	g := newGate(t, n.URL)
	static := repoServer(t)
	q := fmt.Sprintf("?base=%s&stream=%d&key=%s", url.QueryEscape(g.URL), stream, url.QueryEscape(w.Key))
	// Refused at first (say, a server still starting behind a proxy):
	// connect keeps trying within its timeout instead of failing.
	g.refuse()
	chat, probe := newTab(t, b), newTab(t, b)
	chat.open(static.URL + "/examples/live-chat/" + q)
	probe.open(static.URL + "/e2e/testdata/sdk-probe.html" + q)
	g.allow(t, 2)
	chat.waitFor("the chat to connect", connected)
	probe.waitFor("the SDK probe to connect", `window.ready === true`)
	events := func(name string) string {
		return fmt.Sprintf(`window.events.filter(e => e === %q).length`, name)
	}

	chat.chatSend("alice", "one")
	if got := g.cut(); got != 2 {
		t.Fatalf("cut %d streams; want 2", got)
	}
	probe.waitFor("a resume after the cut", events("resumed")+" === 1")
	chat.waitFor("the chat to reconnect", connected)
	chat.chatSend("alice", "two")

	g.refuse()
	g.cut()
	g.allow(t, 2) // both pages' reconnects hit the 503
	probe.waitFor("the SDK's own reconnect to resume", events("resumed")+" === 2")
	chat.waitFor("the chat to reconnect by itself", connected)
	chat.chatSend("alice", "three")

	// A fresh session replays nothing: a message sent while the pages are
	// away reaches the chat only because it reloads its history on reset.
	oldUser := evalJS[string](probe, `window.channel.userId`)
	pub := subscribe(t, n.anon(), stream)
	g.set(func(g *gate) { g.forgetIDs = true })
	g.cut()
	if err := pub.Broadcast(context.Background(), w.Key, map[string]string{
		"username": "bob", "type": "chat", "message_text": "while away"}); err != nil {
		t.Fatal(err)
	}
	probe.waitFor("a fresh session", events("reset")+" === 1")
	chat.waitFor("the chat to reload its history", countOf("#list li", "bob: while away")+" === 1")
	chat.chatSend("alice", "four")

	want := []string{"alice: one", "alice: two", "alice: three", "bob: while away", "alice: four"}
	exactlyOnce(t, chat.texts("#list li"), want)
	if got := evalJS[[]string](probe, `window.got`); !slices.Equal(got, []string{"one", "two", "three", "four"}) {
		t.Errorf("SDK delivered %q; want each live message once (nothing is replayed after a reset)", got)
	}
	if newUser := evalJS[string](probe, `window.channel.userId`); newUser == oldUser {
		t.Errorf("user id %s kept across a fresh init; want a new one", newUser)
	}
	t.Logf("SDK events: %q", evalJS[[]string](probe, `window.events`))
	chat.noDialog("drops")
}

// repoServer serves the repository as any static file server would, from
// its own origin.
func repoServer(t *testing.T) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.FileServer(http.Dir("..")))
	t.Cleanup(ts.Close)
	return ts
}
