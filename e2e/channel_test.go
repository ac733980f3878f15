package e2e

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/tidings/tidings/client"
	"github.com/tidings/tidings/internal/server"
)

func TestInitEvent(t *testing.T) {
	n := startNode(t, server.Config{})
	stream, _ := liveStream(t, n.admin())
	sub := subscribe(t, n.anon(), stream)

	init, ok := sub.Init()
	if !ok {
		t.Fatal("first event was not init")
	}
	var msg struct {
		Token       string `json:"token"`
		UserID      string `json:"user_id"`
		ViewerCount int    `json:"viewer_count"`
	}
	if err := json.Unmarshal(init.Message, &msg); err != nil {
		t.Fatalf("init message %s: %v", init.Message, err)
	}
	checks := []struct{ name, got, want string }{
		{"type", init.Type, "init"},
		{"stream_id", init.StreamID, strconv.FormatInt(stream, 10)},
		{"author_id", init.AuthorID, "0"},
		{"to_user_id", init.ToUserID, msg.UserID},
		{"viewer_count", strconv.Itoa(msg.ViewerCount), "1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("init %s = %q; want %q", c.name, c.got, c.want)
		}
	}
	if msg.Token == "" || msg.UserID == "" {
		t.Errorf("init token %q, user_id %q: want both set", msg.Token, msg.UserID)
	}
	if _, err := strconv.ParseUint(msg.UserID, 10, 53); err != nil {
		t.Errorf("user_id %q is not a JavaScript-safe integer string", msg.UserID)
	}
	if init.ID == "" {
		t.Error("init carries no SSE id")
	}
}

// The exact wire format of the first event, field by field in order, as the
// compatible API sends it.
func TestInitWireFormat(t *testing.T) {
	n := startNode(t, server.Config{})
	stream, _ := liveStream(t, n.admin())
	resp, lines := rawSSE(t, n.URL, stream, 3)
	for h, want := range map[string]string{
		"Content-Type":                "text/event-stream",
		"Cache-Control":               "no-cache, no-transform",
		"X-Accel-Buffering":           "no",
		"Access-Control-Allow-Origin": "*",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("header %s = %q; want %q", h, got, want)
		}
	}
	if lines[0] != "retry: 2000" {
		t.Errorf("first line %q; want a retry hint", lines[0])
	}
	var data string
	for _, l := range lines {
		if len(l) > 6 && l[:6] == "data: " {
			data = l[6:]
			break
		}
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data), &env); err != nil {
		t.Fatalf("init data %q: %v", data, err)
	}
	var msg map[string]any
	_ = json.Unmarshal(env["message"], &msg)
	uid, _ := msg["user_id"].(string)
	want := `{"stream_id":"` + strconv.FormatInt(stream, 10) + `","author_id":"0","to_user_id":"` + uid +
		`","message":{"token":"` + msg["token"].(string) + `","user_id":"` + uid + `","viewer_count":1},"timestamp":0,"type":"init","widget_key":""}`
	if data != want {
		t.Errorf("init data\n got %s\nwant %s", data, want)
	}
}

func TestBroadcastReachesEveryoneIncludingSender(t *testing.T) {
	n := startNode(t, server.Config{})
	stream, w := liveStream(t, n.admin())
	alice := subscribe(t, n.anon(), stream)
	bob := subscribe(t, n.anon(), stream)

	if err := alice.Broadcast(context.Background(), w.Key, text("hello")); err != nil {
		t.Fatalf("Broadcast: %v", err)
	}
	for name, sub := range map[string]*client.Subscription{"sender": alice, "other": bob} {
		got := nextContent(t, sub)
		if got.Type != "broadcast" || messageText(got) != "hello" || got.AuthorID != alice.UserID() ||
			got.WidgetKey != w.Key || got.StreamID != strconv.FormatInt(stream, 10) || got.ID == "" {
			t.Errorf("%s got %+v (message %s); want alice's broadcast with an id", name, got, got.Message)
		}
	}
}

func TestAuthorCannotBeSpoofed(t *testing.T) {
	n := startNode(t, server.Config{})
	stream, w := liveStream(t, n.admin())
	sub := subscribe(t, n.anon(), stream)
	err := n.anon().Publish(context.Background(), stream, sub.Token(), client.Envelope{
		Type: "broadcast", WidgetKey: w.Key, Message: json.RawMessage(`"x"`),
		AuthorID: "1", StreamID: "999", Timestamp: 12.5,
	})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	got := nextContent(t, sub)
	if got.AuthorID != sub.UserID() || got.StreamID != strconv.FormatInt(stream, 10) || got.Timestamp != 12.5 {
		t.Fatalf("got author %q stream %q timestamp %v; want %q %d 12.5", got.AuthorID, got.StreamID, got.Timestamp, sub.UserID(), stream)
	}
}

func TestRequestRepliesToRequesterOnly(t *testing.T) {
	n := startNode(t, server.Config{})
	stream, w := liveStream(t, n.admin())
	alice := subscribe(t, n.anon(), stream)
	ctx := context.Background()

	// No history yet: an empty array.
	if err := alice.RequestHistory(ctx, w.Key); err != nil {
		t.Fatalf("RequestHistory: %v", err)
	}
	empty := next(t, alice, "request reply", ofType("request"))
	if string(empty.Message) != "[]" || empty.ToUserID != alice.UserID() || empty.AuthorID != "0" {
		t.Fatalf("empty history reply %+v message %s; want [] to alice", empty, empty.Message)
	}

	for _, s := range []string{"one", "two", "three"} {
		if err := alice.Broadcast(ctx, w.Key, text(s)); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		nextContent(t, alice)
	}
	bob := subscribe(t, n.anon(), stream)
	if err := bob.RequestHistory(ctx, w.Key); err != nil {
		t.Fatalf("RequestHistory: %v", err)
	}
	reply := next(t, bob, "request reply", ofType("request"))
	var items []client.Envelope
	if err := json.Unmarshal(reply.Message, &items); err != nil {
		t.Fatalf("reply message %s: %v", reply.Message, err)
	}
	var texts []string
	for _, it := range items {
		texts = append(texts, messageText(it))
		if it.Type != "broadcast" || it.AuthorID != alice.UserID() {
			t.Errorf("history item %+v; want alice's broadcast", it)
		}
	}
	if got, want := stringsJoin(texts), "one,two,three"; got != want {
		t.Fatalf("history %q; want %q (oldest first)", got, want)
	}
	if reply.ToUserID != bob.UserID() {
		t.Errorf("reply to_user_id %q; want bob %q", reply.ToUserID, bob.UserID())
	}
	quiet(t, alice, 500*time.Millisecond, "bob's history reply", ofType("request"))
}

func TestPrivateReachesOnlyItsTarget(t *testing.T) {
	n := startNode(t, server.Config{})
	stream, w := liveStream(t, n.admin())
	alice := subscribe(t, n.anon(), stream)
	bob := subscribe(t, n.anon(), stream)
	carol := subscribe(t, n.anon(), stream)

	if err := alice.SendPrivate(context.Background(), w.Key, bob.UserID(), text("psst")); err != nil {
		t.Fatalf("SendPrivate: %v", err)
	}
	got := nextContent(t, bob)
	if got.Type != "private" || got.ToUserID != bob.UserID() || got.AuthorID != alice.UserID() || messageText(got) != "psst" {
		t.Fatalf("bob got %+v %s; want alice's private", got, got.Message)
	}
	isContent := func(e client.Envelope) bool { return e.Type == "private" || e.Type == "broadcast" }
	quiet(t, alice, 300*time.Millisecond, "the private (sender)", isContent)
	quiet(t, carol, 300*time.Millisecond, "the private (bystander)", isContent)

	// Privates are not history.
	if err := carol.RequestHistory(context.Background(), w.Key); err != nil {
		t.Fatal(err)
	}
	if reply := next(t, carol, "request reply", ofType("request")); string(reply.Message) != "[]" {
		t.Fatalf("history holds %s; want [] (privates are not broadcast history)", reply.Message)
	}
}

func TestViewerCountsSettle(t *testing.T) {
	n := startNode(t, server.Config{})
	stream, _ := liveStream(t, n.admin())
	watcher := subscribe(t, n.anon(), stream)

	var others []*client.Subscription
	for range 5 {
		others = append(others, subscribe(t, n.anon(), stream))
	}
	waitViewers(t, watcher, 6)
	if last := others[4]; last.ViewerCount() < 2 {
		t.Errorf("sixth subscriber's init viewer_count = %d; want the current count", last.ViewerCount())
	}
	for _, s := range others[:3] {
		s.Close()
	}
	waitViewers(t, watcher, 3)
}

// waitViewers reads system envelopes until one reports want viewers.
func waitViewers(t *testing.T, sub *client.Subscription, want int) {
	t.Helper()
	last := -1
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		env, err := sub.Next(ctx)
		cancel()
		if err != nil {
			break
		}
		if n, ok := viewerCount(env); ok {
			last = n
			if n == want {
				return
			}
		}
	}
	t.Fatalf("viewer_count never reached %d (last seen %d)", want, last)
}

func stringsJoin(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}
