package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/tidings/tidings/client"
	"github.com/tidings/tidings/internal/server"
)

// startNATS runs a standalone NATS server with JetStream on a random
// loopback port, as an operator's external NATS would be.
func startNATS(t *testing.T) string {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS did not start")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns.ClientURL()
}

func TestTwoNodesBehaveAsOne(t *testing.T) {
	url := startNATS(t)
	a := startNode(t, server.Config{NATSURL: url, Node: "node-a"})
	b := startNode(t, server.Config{NATSURL: url, Node: "node-b"})
	ctx := context.Background()

	// A stream and widget made through A are known to B.
	stream, w := liveStream(t, a.admin())
	got, err := b.admin().GetStream(ctx, stream)
	if err != nil || string(got.State) != "live" {
		t.Fatalf("B sees stream %+v, %v; want it live", got, err)
	}
	if ws, err := b.admin().ListWidgets(ctx); err != nil || len(ws) != 1 || ws[0].Key != w.Key {
		t.Fatalf("B sees widgets %+v, %v", ws, err)
	}
	// Ids stay unique whichever node allocates them.
	other, err := b.admin().CreateStream(ctx, client.CreateStreamParams{Name: "from b"})
	if err != nil || other.ID == stream {
		t.Fatalf("stream created on B: %+v, %v; want a new id", other, err)
	}

	onA := subscribe(t, a.anon(), stream)
	onB := subscribe(t, b.anon(), stream)

	t.Run("broadcast crosses nodes both ways", func(t *testing.T) {
		if err := onB.Broadcast(ctx, w.Key, text("from b")); err != nil {
			t.Fatal(err)
		}
		if err := onA.Broadcast(ctx, w.Key, text("from a")); err != nil {
			t.Fatal(err)
		}
		for name, sub := range map[string]*client.Subscription{"A": onA, "B": onB} {
			first, second := messageText(nextContent(t, sub)), messageText(nextContent(t, sub))
			if first != "from b" || second != "from a" {
				t.Errorf("subscriber on %s got %q, %q; want the same order everywhere: from b, from a", name, first, second)
			}
		}
	})

	t.Run("private crosses nodes", func(t *testing.T) {
		if err := onA.SendPrivate(ctx, w.Key, onB.UserID(), text("to b")); err != nil {
			t.Fatal(err)
		}
		if got := nextContent(t, onB); got.Type != "private" || messageText(got) != "to b" {
			t.Fatalf("B got %+v", got)
		}
	})

	t.Run("shared history", func(t *testing.T) {
		late := subscribe(t, b.anon(), stream)
		if err := late.RequestHistory(ctx, w.Key); err != nil {
			t.Fatal(err)
		}
		reply := next(t, late, "history", ofType("request"))
		var items []client.Envelope
		_ = json.Unmarshal(reply.Message, &items)
		if len(items) != 2 || messageText(items[0]) != "from b" || messageText(items[1]) != "from a" {
			t.Fatalf("history on B: %s", reply.Message)
		}
	})

	t.Run("a token issued by A publishes through B", func(t *testing.T) {
		env := client.Envelope{Type: "broadcast", WidgetKey: w.Key, Message: json.RawMessage(`{"message_text":"a's token via b"}`)}
		if err := b.anon().Publish(ctx, stream, onA.Token(), env); err != nil {
			t.Fatalf("broadcast on B with a token from A: %v", err)
		}
		for name, sub := range map[string]*client.Subscription{"A": onA, "B": onB} {
			got := nextContent(t, sub)
			if messageText(got) != "a's token via b" || got.AuthorID != onA.UserID() {
				t.Errorf("subscriber on %s got %q by %s; want \"a's token via b\" by A's user %s", name, messageText(got), got.AuthorID, onA.UserID())
			}
		}
	})

	t.Run("a request published on B is answered on A's connection", func(t *testing.T) {
		// B holds no connection of A's user: the request is routed to A.
		env := client.Envelope{Type: "request", WidgetKey: w.Key, Message: json.RawMessage(`{}`)}
		if err := b.anon().Publish(ctx, stream, onA.Token(), env); err != nil {
			t.Fatalf("request on B with a token from A: %v", err)
		}
		if got := historyTexts(t, onA); got != "from b,from a,a's token via b" {
			t.Fatalf("history reply on A's connection %q; want from b,from a,a's token via b", got)
		}
		quiet(t, onB, 300*time.Millisecond, "a history reply meant for A's user", ofType("request"))
	})

	t.Run("viewer counts are global", func(t *testing.T) {
		watcher := subscribe(t, a.anon(), stream)
		extra := subscribe(t, b.anon(), stream)
		// onA, onB, watcher, extra (the history subtest's subscriber closed)
		waitViewers(t, watcher, 4)
		extra.Close()
		waitViewers(t, watcher, 3)
	})

	t.Run("key regeneration is in force on both nodes at once", func(t *testing.T) {
		fresh, err := a.admin().RegenerateWidgetKey(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := onB.Broadcast(ctx, w.Key, text("old key via b")); !client.IsStatus(err, 403) {
			t.Fatalf("old key on B right after regeneration on A: %v; want 403", err)
		}
		if err := onB.Broadcast(ctx, fresh.Key, text("new key via b")); err != nil {
			t.Fatalf("new key on B: %v", err)
		}
		if err := onA.Broadcast(ctx, w.Key, text("old key via a")); !client.IsStatus(err, 403) {
			t.Fatalf("old key on A: %v; want 403", err)
		}
	})

	t.Run("ending on one node closes subscribers on the other", func(t *testing.T) {
		if _, err := b.admin().EndStream(ctx, stream); err != nil {
			t.Fatal(err)
		}
		next(t, onA, "end notice on A", func(e client.Envelope) bool {
			var m struct{ Event string }
			return e.Type == "system" && json.Unmarshal(e.Message, &m) == nil && m.Event == "stream_ended"
		})
		if _, err := a.anon().Subscribe(ctx, stream); !client.IsStatus(err, 410) {
			t.Fatalf("subscribe on A after end on B: %v; want 410", err)
		}
	})
}

// TestOneOrderAcrossNodes: publishers on two nodes send at the same time;
// every subscriber, on either node, sees the broadcasts in one order, the
// order of the stream's history.
func TestOneOrderAcrossNodes(t *testing.T) {
	const perPublisher = 100
	url := startNATS(t)
	nodes := map[string]*node{
		"A": startNode(t, server.Config{NATSURL: url, Node: "node-a"}),
		"B": startNode(t, server.Config{NATSURL: url, Node: "node-b"}),
	}
	stream, w := liveStream(t, nodes["A"].admin())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// On each node: two publishers (which also receive) and two readers.
	type member struct {
		name    string
		sub     *client.Subscription
		publish bool
	}
	var members []member
	for _, on := range []string{"A", "B"} {
		for i := range 4 {
			members = append(members, member{fmt.Sprintf("%s%d", on, i), subscribe(t, nodes[on].anon(), stream), i < 2})
		}
	}
	var publishers int
	for _, m := range members {
		if m.publish {
			publishers++
		}
	}
	total := publishers * perPublisher

	seen := make([][]string, len(members))
	readErrs := make([]error, len(members))
	var readers sync.WaitGroup
	for i, m := range members {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for len(seen[i]) < total {
				env, err := m.sub.Next(ctx)
				if err != nil {
					readErrs[i] = fmt.Errorf("after %d of %d broadcasts: %w", len(seen[i]), total, err)
					return
				}
				if env.Type == client.TypeBroadcast {
					seen[i] = append(seen[i], messageText(env))
				}
			}
		}()
	}
	pubErrs := make(chan error, publishers)
	for _, m := range members {
		if !m.publish {
			continue
		}
		go func() {
			for i := range perPublisher {
				if err := m.sub.Broadcast(ctx, w.Key, text(fmt.Sprintf("%s-%d", m.name, i))); err != nil {
					pubErrs <- fmt.Errorf("publisher %s, message %d: %w", m.name, i, err)
					return
				}
			}
			pubErrs <- nil
		}()
	}
	for range publishers {
		if err := <-pubErrs; err != nil {
			t.Fatal(err)
		}
	}
	readers.Wait()

	late := subscribe(t, nodes["B"].anon(), stream)
	if err := late.RequestHistory(ctx, w.Key); err != nil {
		t.Fatal(err)
	}
	history := strings.Split(historyTexts(t, late), ",")
	if len(history) != total {
		t.Fatalf("history holds %d broadcasts; want %d", len(history), total)
	}
	// The publishers really raced: the history alternates between nodes.
	switches := 0
	for i := 1; i < len(history); i++ {
		if history[i][0] != history[i-1][0] {
			switches++
		}
	}
	if switches < 2 {
		t.Fatalf("history switches between the nodes' publishers %d times; the publishers did not overlap", switches)
	}
	for i, m := range members {
		if readErrs[i] != nil {
			t.Fatalf("subscriber %s: %v", m.name, readErrs[i])
		}
		for k := range history {
			if seen[i][k] != history[k] {
				t.Fatalf("subscriber %s: broadcast %d is %q; the history has %q there (want the history's order everywhere)", m.name, k, seen[i][k], history[k])
			}
		}
	}
	t.Logf("%d subscribers on 2 nodes saw %d broadcasts from %d concurrent publishers in the history's order (%d switches between nodes)", len(members), total, publishers, switches)
}

// TestDrainResumesOnAnotherNode: a node is shut down gracefully; its
// subscriber is told to reconnect, resumes on the other node with its last
// event id, and gets what was published meanwhile exactly once, as the
// same user, with no second init.
func TestDrainResumesOnAnotherNode(t *testing.T) {
	url := startNATS(t)
	a := startNode(t, server.Config{NATSURL: url, Node: "node-a"})
	b := startNode(t, server.Config{NATSURL: url, Node: "node-b"})
	stream, w := liveStream(t, a.admin())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	moving := subscribe(t, a.anon(), stream)
	pub := subscribe(t, b.anon(), stream)
	if err := pub.Broadcast(ctx, w.Key, text("before")); err != nil {
		t.Fatal(err)
	}
	if got := nextContent(t, moving); messageText(got) != "before" {
		t.Fatalf("got %q; want before", messageText(got))
	}
	last, user, token := moving.LastEventID(), moving.UserID(), moving.Token()

	stopped := make(chan struct{})
	go func() { a.stop(); close(stopped) }()
	next(t, moving, "reconnect notice", func(e client.Envelope) bool {
		var m struct{ Event string }
		return e.Type == "system" && json.Unmarshal(e.Message, &m) == nil && m.Event == "reconnect"
	})
	if _, err := moving.Next(ctx); err == nil {
		t.Fatal("the drained node's stream went on after the reconnect notice; want it closed")
	}
	<-stopped

	const missed = 20
	for i := range missed {
		if err := pub.Broadcast(ctx, w.Key, text(fmt.Sprint("missed ", i))); err != nil {
			t.Fatal(err)
		}
	}
	resumed := subscribe(t, b.anon(), stream, client.WithLastEventID(last))
	first := next(t, resumed, "first event on B", func(client.Envelope) bool { return true })
	var m struct {
		Event  string
		UserID string `json:"user_id"`
	}
	_ = json.Unmarshal(first.Message, &m)
	if first.Type != "system" || m.Event != "resumed" || m.UserID != user {
		t.Fatalf("first event on B %s %s; want system resumed as user %s (no init)", first.Type, first.Message, user)
	}
	// The token from A still publishes, through B; its message comes after
	// the replay, so reading up to it shows any duplicate or gap.
	env := client.Envelope{Type: "broadcast", WidgetKey: w.Key, Message: json.RawMessage(`{"message_text":"back"}`)}
	if err := b.anon().Publish(ctx, stream, token, env); err != nil {
		t.Fatalf("publish on B with the token from A: %v", err)
	}
	var got []string
	for len(got) < missed+1 {
		e := next(t, resumed, "replay and live broadcast", func(e client.Envelope) bool {
			if e.Type == client.TypeInit {
				t.Fatal("resume on B sent a second init")
			}
			return e.Type == client.TypeBroadcast
		})
		got = append(got, messageText(e))
		if len(got) == missed+1 && e.AuthorID != user {
			t.Fatalf("author of the last broadcast %s; want the resumed user %s", e.AuthorID, user)
		}
	}
	var want []string
	for i := range missed {
		want = append(want, fmt.Sprint("missed ", i))
	}
	want = append(want, "back")
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("resumed on B got %q; want %q", got, want)
	}
}
