package client

import (
	"context"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/server"
	"github.com/tidings/tidings/internal/testnode"
)

// adminKey is the admin application key every test node registers.
const adminKey = testnode.AdminKey

// startServer starts a real Tidings node in-process on 127.0.0.1 with a
// fresh data directory and returns its base URL; it stops with the test.
func startServer(t *testing.T) string {
	t.Helper()
	return testnode.Start(t, server.Config{}).URL
}

// liveStream creates a stream, starts it and creates a widget, all with
// c, and returns the stream id and the widget key.
func liveStream(t *testing.T, c *Client) (int64, string) {
	t.Helper()
	ctx := context.Background()
	st, err := c.CreateStream(ctx, CreateStreamParams{Name: "stream " + t.Name()})
	if err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	if _, err := c.StartStream(ctx, st.ID); err != nil {
		t.Fatalf("StartStream: %v", err)
	}
	w, err := c.CreateWidget(ctx, CreateWidgetParams{Name: "widget " + t.Name()})
	if err != nil {
		t.Fatalf("CreateWidget: %v", err)
	}
	return st.ID, w.Key
}

// subscribe opens a subscription that is closed when the test ends.
func subscribe(t *testing.T, c *Client, streamID int64, opts ...SubscribeOption) *Subscription {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	sub, err := c.Subscribe(ctx, streamID, opts...)
	if err != nil {
		t.Fatalf("Subscribe(%d): %v", streamID, err)
	}
	t.Cleanup(func() { sub.Close() })
	return sub
}

// nextOfType returns the next envelope of type typ, skipping others
// (viewer count notices and the like). It fails the test after 5 s.
func nextOfType(t *testing.T, sub *Subscription, typ string) Envelope {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		env, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for a %q envelope: %v", typ, err)
		}
		if env.Type == typ {
			return env
		}
	}
}
