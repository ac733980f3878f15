package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"testing"
	"time"
)

func TestSubscribeInit(t *testing.T) {
	base := startServer(t)
	id, _ := liveStream(t, New(base, WithAPIKey(adminKey)))
	sub := subscribe(t, New(base), id)
	if sub.Token() == "" || sub.UserID() == "" || sub.LastEventID() == "" {
		t.Errorf("got token %q user %q last id %q; want all set", sub.Token(), sub.UserID(), sub.LastEventID())
	}
	if got := sub.ViewerCount(); got != 1 {
		t.Errorf("got viewer count %d; want 1", got)
	}
	init, ok := sub.Init()
	if !ok {
		t.Fatal("got no init envelope")
	}
	var m InitMessage
	if err := json.Unmarshal(init.Message, &m); err != nil {
		t.Fatalf("init message %s: %v", init.Message, err)
	}
	checks := []struct{ name, got, want string }{
		{"type", init.Type, TypeInit},
		{"stream_id", init.StreamID, strconv.FormatInt(id, 10)},
		{"author_id", init.AuthorID, "0"},
		{"to_user_id", init.ToUserID, sub.UserID()},
		{"message.token", m.Token, sub.Token()},
		{"message.user_id", m.UserID, sub.UserID()},
		{"id", init.ID, sub.LastEventID()},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("init %s: got %q; want %q", c.name, c.got, c.want)
		}
	}
	if sub.StreamID() != id {
		t.Errorf("got StreamID %d; want %d", sub.StreamID(), id)
	}
}

func TestBroadcastAndHistory(t *testing.T) {
	base := startServer(t)
	id, wk := liveStream(t, New(base, WithAPIKey(adminKey)))
	sub := subscribe(t, New(base), id)
	ctx := context.Background()

	if err := sub.Broadcast(ctx, wk, map[string]string{"text": "hi"}); err != nil {
		t.Fatalf("Broadcast: %v", err)
	}
	echo := nextOfType(t, sub, TypeBroadcast)
	if echo.AuthorID != sub.UserID() || string(echo.Message) != `{"text":"hi"}` || echo.WidgetKey != wk ||
		echo.StreamID != strconv.FormatInt(id, 10) || echo.ID == "" || sub.LastEventID() != echo.ID {
		t.Errorf("got echo %+v (last id %q); want own broadcast {\"text\":\"hi\"} with an id", echo, sub.LastEventID())
	}

	if err := sub.RequestHistory(ctx, wk); err != nil {
		t.Fatalf("RequestHistory: %v", err)
	}
	reply := nextOfType(t, sub, TypeRequest)
	if reply.ToUserID != sub.UserID() || reply.AuthorID != "0" {
		t.Errorf("got reply to %q from %q; want to %q from %q", reply.ToUserID, reply.AuthorID, sub.UserID(), "0")
	}
	var items []Envelope
	if err := json.Unmarshal(reply.Message, &items); err != nil {
		t.Fatalf("got reply message %s; want an array: %v", reply.Message, err)
	}
	if len(items) != 1 || items[0].Type != TypeBroadcast || string(items[0].Message) != `{"text":"hi"}` {
		t.Errorf("got history %s; want the one broadcast", reply.Message)
	}
}

func TestPublishErrors(t *testing.T) {
	base := startServer(t)
	id, wk := liveStream(t, New(base, WithAPIKey(adminKey)))
	sub := subscribe(t, New(base), id)
	msg := json.RawMessage(`"x"`)
	tests := []struct {
		name  string
		token string
		env   Envelope
		want  int
	}{
		{"no token", "", Envelope{Type: TypeBroadcast, WidgetKey: wk, Message: msg}, 401},
		{"bad token", "not-a-token", Envelope{Type: TypeBroadcast, WidgetKey: wk, Message: msg}, 401},
		{"unknown widget key", sub.Token(), Envelope{Type: TypeBroadcast, WidgetKey: "nope", Message: msg}, 403},
		{"no widget key", sub.Token(), Envelope{Type: TypeBroadcast, Message: msg}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New(base).Publish(context.Background(), id, tt.token, tt.env)
			var e *Error
			if !errors.As(err, &e) || e.Status != tt.want || e.Message == "" {
				t.Errorf("got %v; want an *Error with status %d and a message", err, tt.want)
			}
		})
	}
}

func TestSubscribeErrors(t *testing.T) {
	base := startServer(t)
	admin := New(base, WithAPIKey(adminKey))
	ctx := context.Background()
	created, err := admin.CreateStream(ctx, CreateStreamParams{Name: "not started"})
	if err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	ended, _ := liveStream(t, admin)
	if _, err := admin.EndStream(ctx, ended); err != nil {
		t.Fatalf("EndStream: %v", err)
	}
	tests := []struct {
		name string
		id   int64
		want int
	}{
		{"unknown stream", 999, 404},
		{"not live", created.ID, 409},
		{"ended", ended, 410},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub, err := New(base).Subscribe(ctx, tt.id)
			if sub != nil {
				sub.Close()
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != tt.want || e.Code != tt.want {
				t.Errorf("got %v; want an *Error with status %d", err, tt.want)
			}
		})
	}
}

func TestSubscriptionEnds(t *testing.T) {
	base := startServer(t)
	admin := New(base, WithAPIKey(adminKey))
	id, _ := liveStream(t, admin)
	ctx := context.Background()

	t.Run("Close", func(t *testing.T) {
		sub := subscribe(t, New(base), id)
		sub.Close()
		select {
		case <-sub.Done():
		default:
			t.Error("got Done open after Close; want closed")
		}
		if _, err := sub.Next(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("got Next error %v; want context.Canceled", err)
		}
	})
	t.Run("stream ended", func(t *testing.T) {
		sub := subscribe(t, New(base), id)
		if _, err := admin.EndStream(ctx, id); err != nil {
			t.Fatalf("EndStream: %v", err)
		}
		nctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		for {
			_, err := sub.Next(nctx)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatalf("got Next error %v; want io.EOF after the stream ended", err)
			}
		}
	})
}

func TestResumeWithLastEventID(t *testing.T) {
	base := startServer(t)
	id, wk := liveStream(t, New(base, WithAPIKey(adminKey)))
	ctx := context.Background()

	first := subscribe(t, New(base), id)
	if err := first.Broadcast(ctx, wk, "one"); err != nil {
		t.Fatalf("Broadcast one: %v", err)
	}
	nextOfType(t, first, TypeBroadcast)
	last, user := first.LastEventID(), first.UserID()
	first.Close()

	second := subscribe(t, New(base), id)
	if err := second.Broadcast(ctx, wk, "two"); err != nil {
		t.Fatalf("Broadcast two: %v", err)
	}
	nextOfType(t, second, TypeBroadcast)

	resumed := subscribe(t, New(base), id, WithLastEventID(last))
	if resumed.Token() != "" || resumed.LastEventID() != last {
		t.Errorf("before any event: got token %q last id %q; want %q and %q", resumed.Token(), resumed.LastEventID(), "", last)
	}
	nctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	env, err := resumed.Next(nctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	var notice struct{ Event, Token, UserID string }
	_ = json.Unmarshal(env.Message, &notice)
	if env.Type != TypeSystem || notice.Event != "resumed" {
		t.Fatalf("got first event %+v; want a system \"resumed\" notice", env)
	}
	if resumed.UserID() != user || resumed.Token() == "" {
		t.Errorf("after resume: got user %q token %q; want user %q and a token", resumed.UserID(), resumed.Token(), user)
	}
	for {
		env, err := resumed.Next(nctx)
		if err != nil {
			t.Fatalf("waiting for the missed broadcast: %v", err)
		}
		if env.Type == TypeInit {
			t.Fatalf("got an init event on a resumed subscription: %+v", env)
		}
		if env.Type == TypeBroadcast {
			if string(env.Message) != `"two"` {
				t.Errorf("got replayed message %s; want %s", env.Message, `"two"`)
			}
			break
		}
	}
	if _, ok := resumed.Init(); ok {
		t.Error("got Init() ok on a resumed subscription; want false")
	}
	// The token from the resumed notice publishes as the same user.
	if err := resumed.Broadcast(ctx, wk, "three"); err != nil {
		t.Fatalf("Broadcast after resume: %v", err)
	}
	if echo := nextOfType(t, resumed, TypeBroadcast); echo.AuthorID != user || string(echo.Message) != `"three"` {
		t.Errorf("got echo %+v; want %q from user %q", echo, "three", user)
	}
}
