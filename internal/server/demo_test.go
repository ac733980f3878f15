package server

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/tidings/tidings/internal/accounts"
)

func TestBrowserURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://[::]:8080", "http://127.0.0.1:8080"},
		{"http://0.0.0.0:9000", "http://127.0.0.1:9000"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"http://192.0.2.7:80", "http://192.0.2.7:80"},
	} {
		if got := browserURL(c.in); got != c.want {
			t.Errorf("browserURL(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

// The demo is set up once and found again; each start without
// TIDINGS_API_KEY mints a new demo key and revokes the last; nothing secret
// is stored; and what the pages read never creates or restarts anything.
func TestDemoSetup(t *testing.T) {
	ctx := context.Background()
	s, err := New(ctx, Config{DataDir: t.TempDir(), Demo: true, Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	first, err := s.Demo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Demo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.StreamID != first.StreamID || second.WidgetKey != first.WidgetKey {
		t.Fatalf("second setup %+v; want the first's stream and widget key %+v", second, first)
	}
	if second.APIKey == first.APIKey {
		t.Fatal("second setup printed the same demo key; want a fresh one")
	}
	if _, err := s.accounts.Authenticate(ctx, first.APIKey); err == nil {
		t.Error("the previous demo key still authenticates; want it revoked")
	}
	if _, err := s.accounts.Authenticate(ctx, second.APIKey); err != nil {
		t.Errorf("the current demo key: %v", err)
	}
	meta, err := s.demoBucket(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := meta.Get(ctx, demoRecord)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(rec.Value), second.APIKey) {
		t.Errorf("demo record %s holds the key itself", rec.Value)
	}

	if _, err := s.streams.End(ctx, accounts.AdminID, accounts.AdminID, first.StreamID); err != nil {
		t.Fatal(err)
	}
	before := len(s.streams.List(accounts.AdminID))
	page, err := s.demoState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if page.StreamID != first.StreamID || page.WidgetKey != first.WidgetKey {
		t.Errorf("pages see %+v; want the demo as set up", page)
	}
	if after := len(s.streams.List(accounts.AdminID)); after != before {
		t.Errorf("reading the demo for a page went from %d to %d streams; want no change", before, after)
	}
	// The next start replaces the ended stream.
	third, err := s.Demo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if third.StreamID == first.StreamID {
		t.Errorf("setup after the demo stream ended kept stream %d; want a new live one", third.StreamID)
	}
}
