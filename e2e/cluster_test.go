package e2e

import (
	"context"
	"encoding/json"
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
