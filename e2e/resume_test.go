package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/client"
	"github.com/tidings/tidings/internal/server"
)

// follower reads a stream like EventSource would: on any disconnect it
// reconnects with the last event id, and it records what it saw.
type follower struct {
	c        *client.Client
	stream   int64
	userID   string
	token    string
	inits    int
	resumes  int
	lastID   string // last event id seen
	lostNote int
	content  []client.Envelope
	// connected, if set, is closed once the first resumed subscription is
	// open: the server has joined it, so anything published from then on
	// reaches it live, after its replay and any loss notice.
	connected chan struct{}
}

// followAll starts n followers of stream through base: each subscribes
// (one init), then follows until it has want messages, resuming after every
// disconnect. It returns once all have joined; wait blocks until all are
// done.
func followAll(ctx context.Context, base string, stream int64, n, want int) (wait func() ([]*follower, []error)) {
	followers := make([]*follower, n)
	errs := make([]error, n)
	var joined, done sync.WaitGroup
	for i := range followers {
		f := &follower{c: client.New(base), stream: stream}
		followers[i] = f
		joined.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			sub, err := f.c.Subscribe(ctx, stream)
			if err != nil {
				errs[i] = err
				joined.Done()
				return
			}
			f.userID, f.inits = sub.UserID(), 1
			last := sub.LastEventID()
			sub.Close()
			joined.Done()
			errs[i] = f.resumeFrom(ctx, last, want)
		}()
	}
	joined.Wait()
	return func() ([]*follower, []error) {
		done.Wait()
		return followers, errs
	}
}

// checkExactlyOnce asserts f saw the numbered messages 0..n-1 of kind in
// order, each once.
func checkExactlyOnce(t *testing.T, who string, got []client.Envelope, typ string, n int) {
	t.Helper()
	want := 0
	for _, e := range got {
		if e.Type != typ {
			continue
		}
		var m struct{ N int }
		_ = json.Unmarshal(e.Message, &m)
		if m.N != want {
			t.Fatalf("%s: %s #%d arrived where #%d was due (a gap, duplicate or reordering)", who, typ, m.N, want)
		}
		want++
	}
	if want != n {
		t.Fatalf("%s: %d %s messages; want %d", who, want, typ, n)
	}
}

// resumeSources are the two places a resume reads missed messages from: the
// node's in-memory buffer of each stream's newest messages, and the engine
// (the buffer disabled, as for a gap older than the buffer).
var resumeSources = []struct {
	name string
	cfg  server.Config
}{
	{"from memory", server.Config{}},
	{"from the engine", server.Config{ResumeBuffer: -1}},
}

func TestResumeAfterConnectionCut(t *testing.T) {
	for _, src := range resumeSources {
		t.Run(src.name, func(t *testing.T) { testResumeAfterConnectionCut(t, src.cfg) })
	}
}

func testResumeAfterConnectionCut(t *testing.T, cfg server.Config) {
	n := startNode(t, cfg)
	stream, w := liveStream(t, n.admin())
	proxy := newCutter(t, n.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The target subscribes through the proxy; the publisher directly.
	f := &follower{c: client.New(proxy.URL), stream: stream}
	pub := subscribe(t, n.anon(), stream)
	const broadcasts, privates = 300, 30

	// Subscribe first so the publisher knows whom to send privates to.
	ready := make(chan struct{})
	var ferr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sub, err := f.c.Subscribe(ctx, stream)
		if err != nil {
			ferr = err
			close(ready)
			return
		}
		f.userID, f.token, f.inits = sub.UserID(), sub.Token(), 1
		last := sub.LastEventID()
		sub.Close()
		close(ready)
		f.c = client.New(proxy.URL)
		ferr = f.resumeFrom(ctx, last, broadcasts+privates)
	}()
	<-ready
	if ferr != nil {
		t.Fatal(ferr)
	}
	// Cut the target's connection five times while the publisher is
	// sending, the last one well before the end so it resumes into live
	// traffic.
	cuts := 0
	for i := 0; i < broadcasts; i++ {
		if i%50 == 25 {
			cuts += proxy.cut()
		}
		if err := pub.Broadcast(ctx, w.Key, map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			if err := pub.SendPrivate(ctx, w.Key, f.userID, map[string]int{"n": i / 10}); err != nil {
				t.Fatal(err)
			}
		}
	}
	wg.Wait()
	if ferr != nil {
		t.Fatal(ferr)
	}
	checkExactlyOnce(t, "resumed subscriber", f.content, client.TypeBroadcast, broadcasts)
	checkExactlyOnce(t, "resumed subscriber", f.content, client.TypePrivate, privates)
	if f.inits != 1 {
		t.Errorf("%d init events; want exactly 1 (none on resume)", f.inits)
	}
	// One resume follows the test's own close; every cut of an open
	// stream adds one.
	if cuts == 0 || f.resumes < 2 {
		t.Fatalf("%d connections cut, %d resumes; want the stream cut while the publisher was sending", cuts, f.resumes)
	}
	// The original token still publishes, as the same user.
	err := n.anon().Publish(ctx, stream, f.token, client.Envelope{Type: "broadcast", WidgetKey: w.Key, Message: json.RawMessage(`{"n":-1}`)})
	if err != nil {
		t.Fatalf("publish with the original token after resumes: %v", err)
	}
	got := next(t, pub, "the resumed user's broadcast", func(e client.Envelope) bool { return messageN(e) == "#-1" })
	if got.AuthorID != f.userID {
		t.Fatalf("author %q; want the resumed user %q", got.AuthorID, f.userID)
	}
	t.Logf("%d connections cut, %d resumes, %d messages exactly once", cuts, f.resumes, len(f.content))
}

// resumeFrom is follow starting from a known event id.
func (f *follower) resumeFrom(ctx context.Context, last string, want int) error {
	for len(f.content) < want {
		if ctx.Err() != nil {
			return fmt.Errorf("timed out with %d of %d messages", len(f.content), want)
		}
		sub, err := f.c.Subscribe(ctx, f.stream, client.WithLastEventID(last))
		if err != nil {
			// Cut while connecting: retry like EventSource does.
			time.Sleep(20 * time.Millisecond)
			continue
		}
		f.resumes++
		if f.connected != nil {
			close(f.connected)
			f.connected = nil
		}
		for len(f.content) < want {
			env, err := sub.Next(ctx)
			if err != nil {
				break
			}
			if env.ID != "" {
				last, f.lastID = env.ID, env.ID
			}
			switch env.Type {
			case client.TypeInit:
				f.inits++
			case client.TypeBroadcast, client.TypePrivate:
				f.content = append(f.content, env)
			case client.TypeSystem:
				var m struct {
					Event  string
					UserID string `json:"user_id"`
				}
				_ = json.Unmarshal(env.Message, &m)
				if m.Event == "resumed" && m.UserID != f.userID {
					sub.Close()
					return fmt.Errorf("resumed as %q; want %q", m.UserID, f.userID)
				}
				if m.Event == "messages_lost" {
					f.lostNote++
				}
			}
		}
		sub.Close()
	}
	return nil
}

func TestRecoveryStorm(t *testing.T) {
	for _, src := range resumeSources {
		t.Run(src.name, func(t *testing.T) { testRecoveryStorm(t, src.cfg) })
	}
}

func testRecoveryStorm(t *testing.T, cfg server.Config) {
	const subscribers, messages = 50, 2000
	// History must hold them all: a follower that falls behind by more than
	// the history limit has really lost messages.
	cfg.HistoryMaxMsgs = messages
	n := startNode(t, cfg)
	stream, w := liveStream(t, n.admin())
	proxy := newCutter(t, n.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()

	wait := followAll(ctx, proxy.URL, stream, subscribers, messages)
	stopCuts := make(chan struct{})
	cutsDone := make(chan int)
	go func() {
		cuts := 0
		for {
			select {
			case <-stopCuts:
				cutsDone <- cuts
				return
			case <-time.After(150 * time.Millisecond):
				cuts += proxy.cut()
			}
		}
	}()
	pub := subscribe(t, n.anon(), stream)
	for i := 0; i < messages; i++ {
		if err := pub.Broadcast(ctx, w.Key, map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	followers, errs := wait()
	close(stopCuts)
	cuts := <-cutsDone
	if cuts == 0 {
		t.Fatalf("no connection was cut while %d broadcasts were published; the test proved nothing", messages)
	}
	for i, f := range followers {
		if errs[i] != nil {
			t.Fatalf("subscriber %d: %v", i, errs[i])
		}
		checkExactlyOnce(t, "subscriber "+strconv.Itoa(i), f.content, client.TypeBroadcast, messages)
		if f.inits != 1 {
			t.Fatalf("subscriber %d saw %d inits; want 1", i, f.inits)
		}
	}
	t.Logf("%d subscribers × %d messages exactly once, across %d connection cuts", subscribers, messages, cuts)
}

func TestGapBeyondRetentionIsSignalled(t *testing.T) {
	// The gap must be read from the engine: no in-memory buffer.
	n := startNode(t, server.Config{HistoryMaxMsgs: 5, ResumeBuffer: -1})
	stream, w := liveStream(t, n.admin())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub := subscribe(t, n.anon(), stream)
	reader := subscribe(t, n.anon(), stream)
	send := func(from, to int) {
		for i := from; i < to; i++ {
			if err := pub.Broadcast(ctx, w.Key, map[string]int{"n": i}); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(0, 1)
	nextContent(t, reader)
	last := reader.LastEventID()
	reader.Close()

	t.Run("within retention: no notice", func(t *testing.T) {
		send(1, 4)
		// A loss notice would follow the replay (#1-#3); #4, published
		// once the resume is joined, comes after it. Reading up to #4
		// therefore reads any notice sent.
		f := &follower{c: n.anon(), stream: stream, userID: reader.UserID(), connected: make(chan struct{})}
		done := make(chan error, 1)
		connected := f.connected
		go func() { done <- f.resumeFrom(ctx, last, 4) }()
		select {
		case <-connected:
		case err := <-done:
			t.Fatalf("resume ended before it connected: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("resume did not connect within 10s")
		}
		send(4, 5)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if f.lostNote != 0 {
			t.Fatalf("loss notice although nothing was trimmed")
		}
		var got []string
		for _, e := range f.content {
			got = append(got, messageN(e))
		}
		if fmt.Sprint(got) != "[#1 #2 #3 #4]" {
			t.Fatalf("resumed reader got %v; want [#1 #2 #3 #4]", got)
		}
	})
	t.Run("beyond retention: what is left, then the loss notice", func(t *testing.T) {
		send(5, 20)
		// Once the node has delivered #19 (the publisher's own copy), the
		// resume's replay ends with it; otherwise #19 could come live,
		// after the notice.
		next(t, pub, "#19 back at the publisher", func(e client.Envelope) bool { return messageN(e) == "#19" })
		sub := subscribe(t, n.anon(), stream, client.WithLastEventID(last))
		var events []string
		for len(events) < 7 {
			e := next(t, sub, "resume events", func(client.Envelope) bool { return true })
			var m struct{ Event string }
			_ = json.Unmarshal(e.Message, &m)
			if e.Type == "system" && m.Event == "viewer_count" {
				continue
			}
			events = append(events, e.Type+":"+m.Event+messageN(e))
		}
		want := []string{"system:resumed", "broadcast:#15", "broadcast:#16", "broadcast:#17", "broadcast:#18", "broadcast:#19", "system:messages_lost"}
		if fmt.Sprint(events) != fmt.Sprint(want) {
			t.Fatalf("resume events %v; want %v", events, want)
		}
	})
}

func messageN(e client.Envelope) string {
	if e.Type != client.TypeBroadcast {
		return ""
	}
	var m struct{ N int }
	_ = json.Unmarshal(e.Message, &m)
	return "#" + strconv.Itoa(m.N)
}

func TestForgedEventIDGetsNoIdentity(t *testing.T) {
	n := startNode(t, server.Config{})
	stream, w := liveStream(t, n.admin())
	other, _ := liveStream(t, n.admin())
	ctx := context.Background()
	victim := subscribe(t, n.anon(), stream)
	attacker := subscribe(t, n.anon(), stream)
	if err := attacker.SendPrivate(ctx, w.Key, victim.UserID(), text("secret")); err != nil {
		t.Fatal(err)
	}
	nextContent(t, victim)
	vid, aid := victim.LastEventID(), attacker.LastEventID()
	otherSub := subscribe(t, n.anon(), other)

	forged := []struct{ name, id string }{
		{"victim user with attacker's tag", victim.UserID() + aid[len(attacker.UserID()):]},
		{"victim id with one character changed", vid[:len(vid)-8] + flip(vid[len(vid)-8]) + vid[len(vid)-7:]},
		{"valid id of another stream", otherSub.LastEventID()},
		{"bare sequence", "1"},
		{"garbage", "x.y-z"},
	}
	for _, tc := range forged {
		t.Run(tc.name, func(t *testing.T) {
			sub := subscribe(t, n.anon(), stream, client.WithLastEventID(tc.id))
			first := next(t, sub, "first event", func(client.Envelope) bool { return true })
			if first.Type != "init" {
				t.Fatalf("first event %s %s; want a fresh init", first.Type, first.Message)
			}
			var m client.InitMessage
			_ = json.Unmarshal(first.Message, &m)
			if m.UserID == victim.UserID() {
				t.Fatalf("forged id %q yielded the victim's identity", tc.id)
			}
			quiet(t, sub, 300*time.Millisecond, "the victim's private", ofType("private"))
		})
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

func TestIdempotentPublish(t *testing.T) {
	n := startNode(t, server.Config{})
	stream, w := liveStream(t, n.admin())
	ctx := context.Background()
	sender := subscribe(t, n.anon(), stream)
	watcher := subscribe(t, n.anon(), stream)
	for i := 0; i < 3; i++ {
		env := client.Envelope{Type: "broadcast", WidgetKey: w.Key, Message: json.RawMessage(`{"message_text":"once"}`)}
		if err := sender.Publish(ctx, env, client.WithIdempotencyKey("order-42")); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	// The envelope field works the same way, and keys are per stream.
	body := fmt.Sprintf(`{"type":"broadcast","widget_key":%q,"message":{"message_text":"field"},"idempotency_key":"k2"}`, w.Key)
	for i := 0; i < 3; i++ {
		status, _, _ := rawJSON(t, "POST", publishURL(n.URL, stream, sender.Token()), body, nil)
		if status != 200 {
			t.Fatalf("retry %d: status %d", i, status)
		}
	}
	if err := sender.Broadcast(ctx, w.Key, text("after")); err != nil {
		t.Fatal(err)
	}
	for name, sub := range map[string]*client.Subscription{"sender": sender, "watcher": watcher} {
		var got []string
		for len(got) < 3 {
			got = append(got, messageText(nextContent(t, sub)))
		}
		if fmt.Sprint(got) != "[once field after]" {
			t.Errorf("%s received %v; want each retried publish once", name, got)
		}
	}
	if err := watcher.RequestHistory(ctx, w.Key); err != nil {
		t.Fatal(err)
	}
	if h := historyTexts(t, watcher); h != "once,field,after" {
		t.Fatalf("history %q; want one entry per idempotency key", h)
	}
}

func TestHeartbeat(t *testing.T) {
	n := startNode(t, server.Config{Heartbeat: 100 * time.Millisecond})
	stream, _ := liveStream(t, n.admin())
	_, lines := rawSSE(t, n.URL, stream, 6)
	beats := 0
	for _, l := range lines {
		if l == ":" {
			beats++
		}
	}
	if beats < 2 {
		t.Fatalf("lines %q; want heartbeat comments on an idle stream", lines)
	}
}

// A client away for longer than the in-memory buffer holds is replayed from
// the engine in chunks, privates included, then continues live.
func TestResumeLongGap(t *testing.T) {
	for _, src := range resumeSources {
		t.Run(src.name, func(t *testing.T) {
			// Within the default history limit (1000), beyond the buffer (256).
			const broadcasts, privates = 900, 18
			n := startNode(t, src.cfg)
			stream, w := liveStream(t, n.admin())
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			away := subscribe(t, n.anon(), stream)
			f := &follower{c: n.anon(), stream: stream, userID: away.UserID(), inits: 1}
			last := away.LastEventID()
			away.Close()
			pub := subscribe(t, n.anon(), stream)
			for i := 0; i < broadcasts; i++ {
				if err := pub.Broadcast(ctx, w.Key, map[string]int{"n": i}); err != nil {
					t.Fatal(err)
				}
				if i%50 == 0 {
					if err := pub.SendPrivate(ctx, w.Key, f.userID, map[string]int{"n": i / 50}); err != nil {
						t.Fatal(err)
					}
				}
			}
			done := make(chan error, 1)
			f.connected = make(chan struct{})
			connected := f.connected
			go func() { done <- f.resumeFrom(ctx, last, broadcasts+privates+1) }()
			// One more, live, while (or after) the replay is written. It is
			// published once the resume is joined, so it arrives after the
			// replay and after any loss notice: reading up to it reads the
			// notice if one is (wrongly) sent.
			select {
			case <-connected:
			case err := <-done:
				t.Fatalf("resume ended before it connected: %v", err)
			case <-ctx.Done():
				t.Fatal("resume did not connect")
			}
			if err := pub.Broadcast(ctx, w.Key, map[string]int{"n": broadcasts}); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if f.lostNote != 0 {
				t.Errorf("%d loss notices; nothing was trimmed", f.lostNote)
			}
			checkExactlyOnce(t, "returning subscriber", f.content, client.TypeBroadcast, broadcasts+1)
			checkExactlyOnce(t, "returning subscriber", f.content, client.TypePrivate, privates)
		})
	}
}
