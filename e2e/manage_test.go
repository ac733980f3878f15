package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/client"
	"github.com/tidings/tidings/internal/server"
)

func TestStreamLifecycle(t *testing.T) {
	n := startNode(t, server.Config{})
	c := n.admin()
	ctx := context.Background()
	st, err := c.CreateStream(ctx, client.CreateStreamParams{Name: "My Great Show!", Description: "d"})
	if err != nil {
		t.Fatal(err)
	}
	if st.ID <= 0 || st.Slug != "my-great-show" || st.Description != "d" || st.StartDate != nil || st.EndDate != nil ||
		st.CreatedBy == "" || st.CreatedAt.IsZero() || st.UpdatedAt.IsZero() || st.State != "created" {
		t.Fatalf("created stream %+v", st)
	}
	second, _ := c.CreateStream(ctx, client.CreateStreamParams{Name: "b", Slug: "Custom Slug"})
	if second.ID != st.ID+1 || second.Slug != "custom-slug" {
		t.Fatalf("second stream id %d slug %q; want %d, custom-slug", second.ID, second.Slug, st.ID+1)
	}
	steps := []struct {
		name  string
		do    func(context.Context, int64) (*client.Stream, error)
		state string
	}{
		{"prepare", c.PrepareStream, "prepared"},
		{"start", c.StartStream, "live"},
		{"end", c.EndStream, "ended"},
	}
	for _, s := range steps {
		got, err := s.do(ctx, st.ID)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if string(got.State) != s.state {
			t.Fatalf("%s: state %q; want %q", s.name, got.State, s.state)
		}
	}
	got, err := c.GetStream(ctx, st.ID)
	if err != nil || got.StartDate == nil || got.EndDate == nil || got.EndDate.Before(*got.StartDate) {
		t.Fatalf("ended stream %+v, %v: want start and end dates", got, err)
	}
	// Ending is final.
	for name, do := range map[string]func(context.Context, int64) (*client.Stream, error){"start": c.StartStream, "end": c.EndStream, "prepare": c.PrepareStream} {
		if _, err := do(ctx, st.ID); !client.IsStatus(err, 410) {
			t.Errorf("%s after end: err %v; want 410", name, err)
		}
	}
	list, err := c.ListStreams(ctx)
	if err != nil || len(list) != 2 || list[0].ID != second.ID {
		t.Fatalf("ListStreams = %+v, %v; want both, newest first", list, err)
	}
}

func TestStreamSlugs(t *testing.T) {
	n := startNode(t, server.Config{})
	c := n.admin()
	ctx := context.Background()
	tests := []struct {
		name, slug string
		want       string // "stream-<id>" stands for the id-based fallback
	}{
		{"Friday Show", "", "friday-show"},
		{"Friday Show", "  Late  Edition ", "late-edition"},
		{"!!!", "", "stream-<id>"},
		{"日本語の番組", "", "stream-<id>"},
		{"日本語の番組", "jp-show", "jp-show"},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/"+tc.slug, func(t *testing.T) {
			st, err := c.CreateStream(ctx, client.CreateStreamParams{Name: tc.name, Slug: tc.slug})
			if err != nil {
				t.Fatal(err)
			}
			want := strings.ReplaceAll(tc.want, "<id>", strconv.FormatInt(st.ID, 10))
			if st.Slug != want {
				t.Errorf("slug %q; want %q", st.Slug, want)
			}
		})
	}
	// Slugs that reduce to nothing are refused: see TestManagementErrors.
}

func TestWidgetKeyRegeneration(t *testing.T) {
	n := startNode(t, server.Config{})
	c := n.admin()
	ctx := context.Background()
	stream, w := liveStream(t, c)
	sub := subscribe(t, n.anon(), stream)
	if err := sub.Broadcast(ctx, w.Key, text("before")); err != nil {
		t.Fatalf("publish with key: %v", err)
	}
	fresh, err := c.RegenerateWidgetKey(ctx, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Key == w.Key || len(fresh.Key) != 36 {
		t.Fatalf("new key %q (old %q); want a different UUID", fresh.Key, w.Key)
	}
	if err := sub.Broadcast(ctx, w.Key, text("old key")); !client.IsStatus(err, 403) {
		t.Fatalf("publish with the old key: %v; want 403", err)
	}
	if err := sub.Broadcast(ctx, fresh.Key, text("new key")); err != nil {
		t.Fatalf("publish with the new key: %v", err)
	}
	name := "renamed"
	upd, err := c.UpdateWidget(ctx, w.ID, client.UpdateWidgetParams{Name: &name})
	if err != nil || upd.Name != "renamed" || upd.Key != fresh.Key {
		t.Fatalf("UpdateWidget = %+v, %v", upd, err)
	}
	if err := c.DeleteWidget(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if err := sub.Broadcast(ctx, fresh.Key, text("deleted")); !client.IsStatus(err, 403) {
		t.Fatalf("publish with a deleted widget's key: %v; want 403", err)
	}
	if _, err := c.GetWidget(ctx, w.ID); !client.IsStatus(err, 404) {
		t.Fatalf("GetWidget after delete: %v; want 404", err)
	}
}

func TestTenantIsolation(t *testing.T) {
	n := startNode(t, server.Config{})
	admin := n.admin()
	ctx := context.Background()
	acct, err := admin.CreateAccount(ctx, "tenant b")
	if err != nil {
		t.Fatal(err)
	}
	b := client.New(n.URL, client.WithAPIKey(acct.Key))
	aStream, aWidget := liveStream(t, admin)
	bStream, bWidget := liveStream(t, b)

	notFound := []struct {
		name string
		do   func() error
	}{
		{"get stream", func() error { _, err := b.GetStream(ctx, aStream); return err }},
		{"start stream", func() error { _, err := b.StartStream(ctx, aStream); return err }},
		{"end stream", func() error { _, err := b.EndStream(ctx, aStream); return err }},
		{"get widget", func() error { _, err := b.GetWidget(ctx, aWidget.ID); return err }},
		{"update widget", func() error {
			n := "x"
			_, err := b.UpdateWidget(ctx, aWidget.ID, client.UpdateWidgetParams{Name: &n})
			return err
		}},
		{"regenerate key", func() error { _, err := b.RegenerateWidgetKey(ctx, aWidget.ID); return err }},
		{"delete widget", func() error { return b.DeleteWidget(ctx, aWidget.ID) }},
	}
	for _, tc := range notFound {
		if err := tc.do(); !client.IsStatus(err, 404) {
			t.Errorf("tenant b: %s of tenant a: %v; want 404", tc.name, err)
		}
	}
	if list, _ := b.ListStreams(ctx); len(list) != 1 || list[0].ID != bStream {
		t.Errorf("tenant b lists %+v; want only its own stream", list)
	}
	if list, _ := b.ListWidgets(ctx); len(list) != 1 || list[0].ID != bWidget.ID {
		t.Errorf("tenant b lists widgets %+v; want only its own", list)
	}
	// A widget key of one tenant cannot publish into another's stream.
	sub := subscribe(t, n.anon(), aStream)
	if err := sub.Broadcast(ctx, bWidget.Key, text("intruder")); !client.IsStatus(err, 403) {
		t.Errorf("publish to a's stream with b's widget key: %v; want 403", err)
	}
	if _, err := b.ListAccounts(ctx); !client.IsStatus(err, 403) {
		t.Errorf("tenant lists accounts: %v; want 403", err)
	}
	// a's widget still works and a's data is unchanged.
	if err := sub.Broadcast(ctx, aWidget.Key, text("owner")); err != nil {
		t.Errorf("owner publish: %v", err)
	}
}

func TestAccessTokenExpiry(t *testing.T) {
	n := startNode(t, server.Config{})
	ctx := context.Background()
	tok, err := n.admin().CreateAccessToken(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if tok.ExpirySeconds != 1 || time.Until(tok.ExpiresAt) > 2*time.Second {
		t.Fatalf("token %+v; want one that expires in 1s", tok)
	}
	withToken := client.New(n.URL, client.WithAPIKey(tok.Token))
	if _, err := withToken.ListStreams(ctx); err != nil {
		t.Fatalf("fresh access token: %v", err)
	}
	time.Sleep(time.Until(tok.ExpiresAt) + 100*time.Millisecond)
	_, err = withToken.ListStreams(ctx)
	if !client.IsStatus(err, 403) || !client.IsAccessTokenExpired(err) {
		t.Fatalf("expired access token: %v; want 403 with X-Access-Token-Expired", err)
	}
	// The raw response, as browser code sees it.
	req, _ := http.NewRequest(http.MethodGet, n.URL+"/v1/streams", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	if resp.StatusCode != 403 || resp.Header.Get("X-Access-Token-Expired") != "true" || m["code"] != float64(403) {
		t.Fatalf("expired token response %d %v %s", resp.StatusCode, resp.Header, body)
	}
	// A tampered token is not "expired", it is invalid.
	bad := client.New(n.URL, client.WithAPIKey(tok.Token+"x"))
	if _, err := bad.ListStreams(ctx); !client.IsStatus(err, 401) {
		t.Fatalf("tampered token: %v; want 401", err)
	}
}

func TestKeys(t *testing.T) {
	n := startNode(t, server.Config{})
	ctx := context.Background()
	k, err := n.admin().CreateKey(ctx, "ci")
	if err != nil {
		t.Fatal(err)
	}
	withKey := client.New(n.URL, client.WithAPIKey(k.Key))
	if _, err := withKey.ListStreams(ctx); err != nil {
		t.Fatalf("new key: %v", err)
	}
	keys, err := n.admin().ListKeys(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("ListKeys = %+v, %v; want the env key and the new one", keys, err)
	}
	for _, kk := range keys {
		if kk.Key != "" {
			t.Fatalf("listing shows a secret: %+v", kk)
		}
	}
	// An access token acts for the key that minted it: created_by names
	// the key either way, and the token cannot mint its own successor.
	tok, err := withKey.CreateAccessToken(ctx, 3600)
	if err != nil {
		t.Fatal(err)
	}
	withToken := client.New(n.URL, client.WithAPIKey(tok.Token))
	for name, c := range map[string]*client.Client{"key": withKey, "access token": withToken} {
		st, err := c.CreateStream(ctx, clientStream("by "+name))
		if err != nil || st.CreatedBy != k.ID || st.UpdatedBy != k.ID {
			t.Errorf("stream created with the %s: %+v, %v; want created_by and updated_by %q", name, st, err, k.ID)
		}
	}
	if _, err := withToken.CreateAccessToken(ctx, 60); !client.IsStatus(err, 403) || !strings.Contains(err.Error(), "application key") {
		t.Errorf("access token minting an access token: %v; want 403 naming the application key", err)
	}
	if err := n.admin().DeleteKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := withKey.ListStreams(ctx); !client.IsStatus(err, 401) {
		t.Fatalf("deleted key: %v; want 401", err)
	}
	// Deleting the key revokes the tokens it minted.
	if _, err := withToken.ListStreams(ctx); !client.IsStatus(err, 401) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("access token of a deleted key: %v; want 401 saying it is revoked", err)
	}
	if _, err := n.admin().ListStreams(ctx); err != nil {
		t.Fatalf("other keys keep working: %v", err)
	}
}

// A key deleted through one node revokes its access tokens on every node.
func TestKeysAcrossNodes(t *testing.T) {
	url := startNATS(t)
	a := startNode(t, server.Config{NATSURL: url, Node: "node-a"})
	b := startNode(t, server.Config{NATSURL: url, Node: "node-b"})
	ctx := context.Background()
	k, err := a.admin().CreateKey(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := client.New(a.URL, client.WithAPIKey(k.Key)).CreateAccessToken(ctx, 3600)
	if err != nil {
		t.Fatal(err)
	}
	onA := client.New(a.URL, client.WithAPIKey(tok.Token))
	onB := client.New(b.URL, client.WithAPIKey(tok.Token))
	if _, err := onB.ListStreams(ctx); err != nil {
		t.Fatalf("token minted on A, used on B: %v", err)
	}
	if err := b.admin().DeleteKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*client.Client{"A": onA, "B": onB} {
		if _, err := c.ListStreams(ctx); !client.IsStatus(err, 401) {
			t.Errorf("token of a key deleted on B, used on %s: %v; want 401", name, err)
		}
	}
}

func TestEndedStreamClosesSubscribers(t *testing.T) {
	n := startNode(t, server.Config{})
	c := n.admin()
	ctx := context.Background()
	stream, w := liveStream(t, c)
	subs := []*client.Subscription{subscribe(t, n.anon(), stream), subscribe(t, n.anon(), stream)}
	if _, err := c.EndStream(ctx, stream); err != nil {
		t.Fatal(err)
	}
	for i, sub := range subs {
		notice := next(t, sub, "stream end notice", func(e client.Envelope) bool {
			var m struct{ Event string }
			return e.Type == "system" && json.Unmarshal(e.Message, &m) == nil && m.Event == "stream_ended"
		})
		if notice.AuthorID != "0" {
			t.Errorf("subscriber %d: notice %+v", i, notice)
		}
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := sub.Next(tctx)
		cancel()
		if !errors.Is(err, io.EOF) {
			t.Errorf("subscriber %d: after the notice got %v; want the stream closed (EOF)", i, err)
		}
	}
	if _, err := n.anon().Subscribe(ctx, stream); !client.IsStatus(err, 410) {
		t.Errorf("subscribe after end: %v; want 410", err)
	}
	if err := subs[0].Broadcast(ctx, w.Key, text("late")); !client.IsStatus(err, 410) {
		t.Errorf("publish after end: %v; want 410", err)
	}
}
