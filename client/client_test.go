package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestErrors(t *testing.T) {
	base := startServer(t)
	ctx := context.Background()
	acct, err := New(base, WithAPIKey(adminKey)).CreateAccount(ctx, "tenant")
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	tests := []struct {
		name       string
		call       func() error
		wantStatus int
		wantMsg    string // substring of Message
	}{
		{"missing stream", func() error {
			_, err := New(base, WithAPIKey(adminKey)).GetStream(ctx, 999)
			return err
		}, 404, "999"},
		{"no api key", func() error {
			_, err := New(base).ListStreams(ctx)
			return err
		}, 401, ""},
		{"wrong api key", func() error {
			_, err := New(base, WithAPIKey("tdk_wrong_key_0123456789")).ListStreams(ctx)
			return err
		}, 401, ""},
		{"not admin", func() error {
			_, err := New(base, WithAPIKey(acct.Key)).ListAccounts(ctx)
			return err
		}, 403, "admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got error %v (%T); want *Error", err, err)
			}
			if e.Status != tt.wantStatus || e.Code != tt.wantStatus {
				t.Errorf("got status %d code %d; want %d", e.Status, e.Code, tt.wantStatus)
			}
			if e.Message == "" || !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("got message %q; want it to contain %q", e.Message, tt.wantMsg)
			}
			if want := fmt.Sprintf("tidings: %d %s", tt.wantStatus, e.Message); err.Error() != want {
				t.Errorf("got %q; want %q", err.Error(), want)
			}
			if !IsStatus(err, tt.wantStatus) || IsStatus(err, 418) || IsStatus(err, 200) {
				t.Errorf("IsStatus wrong for %v", err)
			}
			if IsAccessTokenExpired(err) {
				t.Errorf("IsAccessTokenExpired(%v) = true; want false", err)
			}
		})
	}
}

func TestAccessTokenExpired(t *testing.T) {
	base := startServer(t)
	ctx := context.Background()
	admin := New(base, WithAPIKey(adminKey))

	long, err := admin.CreateAccessToken(ctx, 3600)
	if err != nil {
		t.Fatalf("CreateAccessToken(3600): %v", err)
	}
	if long.Token == "" || long.ExpirySeconds != 3600 || time.Until(long.ExpiresAt) < 59*time.Minute {
		t.Errorf("got token %+v; want a token valid for 3600 s", long)
	}
	if _, err := New(base, WithAPIKey(long.Token)).ListStreams(ctx); err != nil {
		t.Errorf("ListStreams with a valid access token: %v", err)
	}

	short, err := admin.CreateAccessToken(ctx, 1)
	if err != nil {
		t.Fatalf("CreateAccessToken(1): %v", err)
	}
	// Expiry is kept in whole seconds, rounded up: wait until it has passed.
	time.Sleep(time.Until(short.ExpiresAt) + 100*time.Millisecond)
	_, err = New(base, WithAPIKey(short.Token)).ListStreams(ctx)
	if !IsAccessTokenExpired(err) || !IsStatus(err, 403) {
		t.Fatalf("got %v; want a 403 with X-Access-Token-Expired", err)
	}
	var e *Error
	if errors.As(err, &e) && e.Header.Get("X-Access-Token-Expired") != "true" {
		t.Errorf("got header %q; want %q", e.Header.Get("X-Access-Token-Expired"), "true")
	}
}

func TestStreamLifecycle(t *testing.T) {
	base := startServer(t)
	ctx := context.Background()
	c := New(base+"/", WithAPIKey(adminKey))
	st, err := c.CreateStream(ctx, CreateStreamParams{Name: "My show", Slug: "my-show", Description: "desc"})
	if err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	if st.ID <= 0 || st.Name != "My show" || st.Slug != "my-show" || st.Description != "desc" ||
		st.State != StreamCreated || st.StartDate != nil || st.EndDate != nil || st.CreatedAt.IsZero() {
		t.Errorf("got created stream %+v", st)
	}
	list, err := c.ListStreams(ctx)
	if err != nil || !slices.ContainsFunc(list, func(s Stream) bool { return s.ID == st.ID }) {
		t.Errorf("got ListStreams %+v, %v; want it to contain stream %d", list, err, st.ID)
	}
	got, err := c.GetStream(ctx, st.ID)
	if err != nil || got.ID != st.ID || got.Name != st.Name || got.State != StreamCreated {
		t.Errorf("got GetStream %+v, %v", got, err)
	}

	steps := []struct {
		name      string
		do        func(context.Context, int64) (*Stream, error)
		wantState StreamState
		wantStart bool
		wantEnd   bool
	}{
		{"prepare", c.PrepareStream, StreamPrepared, false, false},
		{"start", c.StartStream, StreamLive, true, false},
		{"end", c.EndStream, StreamEnded, true, true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if _, err := s.do(ctx, st.ID); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			got, err := c.GetStream(ctx, st.ID)
			if err != nil {
				t.Fatalf("GetStream: %v", err)
			}
			if got.State != s.wantState {
				t.Errorf("got state %q; want %q", got.State, s.wantState)
			}
			if (got.StartDate != nil) != s.wantStart || (got.EndDate != nil) != s.wantEnd {
				t.Errorf("got start %v end %v; want set: %v, %v", got.StartDate, got.EndDate, s.wantStart, s.wantEnd)
			}
		})
	}
	if _, err := c.StartStream(ctx, st.ID); err == nil {
		t.Errorf("got nil error restarting an ended stream; want an error")
	}
	if _, err := c.CreateStream(ctx, CreateStreamParams{}); !IsStatus(err, 400) {
		t.Errorf("got %v creating a stream without name; want 400", err)
	}
}

func TestWidgets(t *testing.T) {
	base := startServer(t)
	ctx := context.Background()
	c := New(base, WithAPIKey(adminKey))
	w, err := c.CreateWidget(ctx, CreateWidgetParams{Name: "Chat", Summary: "sum", Description: "desc", WebhookHosts: []string{"example.com"}})
	if err != nil {
		t.Fatalf("CreateWidget: %v", err)
	}
	if w.ID <= 0 || w.Name != "Chat" || w.Summary != "sum" || w.Description != "desc" || w.Key == "" ||
		!slices.Equal(w.WebhookHosts, []string{"example.com"}) {
		t.Errorf("got created widget %+v", w)
	}
	list, err := c.ListWidgets(ctx)
	if err != nil || len(list) != 1 || list[0].ID != w.ID || list[0].Name != "Chat" {
		t.Errorf("got ListWidgets %+v, %v; want the one widget", list, err)
	}

	name, hosts := "Chat 2", []string{}
	up, err := c.UpdateWidget(ctx, w.ID, UpdateWidgetParams{Name: &name, WebhookHosts: &hosts})
	if err != nil {
		t.Fatalf("UpdateWidget: %v", err)
	}
	got, err := c.GetWidget(ctx, w.ID)
	if err != nil {
		t.Fatalf("GetWidget: %v", err)
	}
	for _, g := range []*Widget{up, got} {
		if g == nil || g.Name != "Chat 2" || g.Summary != "sum" || len(g.WebhookHosts) != 0 {
			t.Errorf("got updated widget %+v; want name %q, summary kept, no hosts", g, name)
		}
	}

	// A regenerated key replaces the old one for publishing.
	st, err := c.CreateStream(ctx, CreateStreamParams{Name: "s"})
	if err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	if _, err := c.StartStream(ctx, st.ID); err != nil {
		t.Fatalf("StartStream: %v", err)
	}
	rw, err := c.RegenerateWidgetKey(ctx, w.ID)
	if err != nil {
		t.Fatalf("RegenerateWidgetKey: %v", err)
	}
	if rw.ID != w.ID || rw.Key == "" || rw.Key == w.Key {
		t.Errorf("got regenerated key %q (old %q); want a new non-empty key", rw.Key, w.Key)
	}
	sub := subscribe(t, New(base), st.ID)
	if err := sub.Broadcast(ctx, w.Key, "old"); err == nil {
		t.Errorf("got nil error publishing with the old widget key; want a rejection")
	}
	if err := sub.Broadcast(ctx, rw.Key, "new"); err != nil {
		t.Errorf("publishing with the new widget key: %v", err)
	}

	if err := c.DeleteWidget(ctx, w.ID); err != nil {
		t.Fatalf("DeleteWidget: %v", err)
	}
	if _, err := c.GetWidget(ctx, w.ID); !IsStatus(err, 404) {
		t.Errorf("got %v getting a deleted widget; want 404", err)
	}
}

func TestAccountsAndKeys(t *testing.T) {
	base := startServer(t)
	ctx := context.Background()
	admin := New(base, WithAPIKey(adminKey))
	acct, err := admin.CreateAccount(ctx, "Acme")
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if acct.Account.ID == "" || acct.Account.Name != "Acme" || !strings.HasPrefix(acct.Key, "tdk_") {
		t.Errorf("got account %+v; want id, name %q and a tdk_ key", acct, "Acme")
	}
	accts, err := admin.ListAccounts(ctx)
	if err != nil || !slices.ContainsFunc(accts, func(a Account) bool { return a.ID == acct.Account.ID && a.Name == "Acme" }) {
		t.Errorf("got ListAccounts %+v, %v; want it to contain %q", accts, err, acct.Account.ID)
	}

	tenant := New(base, WithAPIKey(acct.Key))
	k, err := tenant.CreateKey(ctx, "ci")
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	if k.ID == "" || k.Name != "ci" || !strings.HasPrefix(k.Key, "tdk_") || k.Prefix == "" || !strings.HasPrefix(k.Key, k.Prefix) {
		t.Errorf("got key %+v; want id, name, a tdk_ secret starting with its prefix", k)
	}
	keys, err := tenant.ListKeys(ctx)
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	i := slices.IndexFunc(keys, func(x AppKey) bool { return x.ID == k.ID })
	if i < 0 || keys[i].Key != "" || keys[i].Prefix != k.Prefix {
		t.Errorf("got ListKeys %+v; want key %q listed with prefix and without secret", keys, k.ID)
	}

	// Tenants are isolated: the new key sees its own streams only.
	if _, err := admin.CreateStream(ctx, CreateStreamParams{Name: "admin's"}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	withKey := New(base, WithAPIKey(k.Key))
	if ss, err := withKey.ListStreams(ctx); err != nil || len(ss) != 0 {
		t.Errorf("got tenant ListStreams %+v, %v; want none", ss, err)
	}
	if err := tenant.DeleteKey(ctx, k.ID); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	if _, err := withKey.ListStreams(ctx); !IsStatus(err, 401) {
		t.Errorf("got %v with a deleted key; want 401", err)
	}
}
