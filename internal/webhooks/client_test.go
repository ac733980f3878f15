package webhooks

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Every receiver here listens on 127.0.0.1; no test dials anything else.

func anyURL(*url.URL) error { return nil }

func loopbackCaller(t *testing.T, allow ...netip.AddrPort) *caller {
	t.Helper()
	c := newCaller(NewGuard(len(allow) == 0, allow), 2*time.Second, 1024, 2)
	t.Cleanup(c.close)
	return c
}

func addrOf(t *testing.T, srv *httptest.Server) netip.AddrPort {
	t.Helper()
	u, _ := url.Parse(srv.URL)
	return netip.MustParseAddrPort(u.Host)
}

func TestCallerPostsAndBoundsTheAnswer(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("X-Test"))
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	c := loopbackCaller(t)
	res, err := c.post(context.Background(), srv.URL, http.Header{"X-Test": {"yes"}}, []byte(`{}`), anyURL)
	if err != nil {
		t.Fatal(err)
	}
	if res.status != 200 || string(res.body) != `{"ok":true}` || !res.json || res.truncated || got.Load() != "yes" {
		t.Fatalf("got %+v (%s), header %v", res, res.body, got.Load())
	}
}

func TestCallerStopsReadingAHugeAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 64<<10))
		for i := 0; i < 100<<20/len(chunk); i++ { // 100 MB, if anyone reads it
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c := loopbackCaller(t)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	res, err := c.post(context.Background(), srv.URL, http.Header{}, nil, anyURL)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if len(res.body) != 1024 || !res.truncated {
		t.Fatalf("kept %d bytes, truncated %v; want 1024, true", len(res.body), res.truncated)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Fatalf("allocated %d MB reading a bounded answer", grew>>20)
	}
	t.Logf("100 MB answer cut at 1 KiB in %v", time.Since(start))
}

func TestCallerTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := loopbackCaller(t)
	c.timeout = 300 * time.Millisecond
	start := time.Now()
	_, err := c.post(context.Background(), srv.URL, http.Header{}, nil, anyURL)
	if err == nil || permanent(err) || describe(err) != "timed out" {
		t.Fatalf("err = %v (%q); want a retryable timeout", err, describe(err))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v; want about the 300ms timeout", d)
	}
}

func TestCallerRedirects(t *testing.T) {
	var targetHits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetHits.Add(1)
		_, _ = w.Write([]byte("landed"))
	}))
	defer target.Close()
	hop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := r.URL.Query().Get("n")
		if n == "" || n == "0" {
			http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
			return
		}
		http.Redirect(w, r, "/?n=0", http.StatusFound)
	}))
	defer hop.Close()
	hopOnly := func(u *url.URL) error {
		if u.Host != strings.TrimPrefix(hop.URL, "http://") {
			return errors.New("host not allowed")
		}
		return nil
	}
	tests := []struct {
		name    string
		c       *caller
		url     string
		allowed func(*url.URL) error
		wantErr error
		hits    int32
	}{
		{"followed", loopbackCaller(t), hop.URL, anyURL, nil, 1},
		{"two hops within the bound", loopbackCaller(t), hop.URL + "/?n=1", anyURL, nil, 1},
		{"to a host not allowed", loopbackCaller(t), hop.URL, hopOnly, ErrRedirectRefused, 0},
		// The first hop is let through by an operator exception; the
		// redirect leads to another loopback port, which the guard refuses.
		{"to a refused address", loopbackCaller(t, addrOf(t, hop)), hop.URL, anyURL, ErrRefused, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			targetHits.Store(0)
			res, err := tc.c.post(context.Background(), tc.url, http.Header{}, []byte("{}"), tc.allowed)
			if tc.wantErr == nil && (err != nil || string(res.body) != "landed") {
				t.Fatalf("got %q, %v; want the target's answer", res.body, err)
			}
			if tc.wantErr != nil && (!errors.Is(err, tc.wantErr) || !permanent(err)) {
				t.Fatalf("err = %v; want %v, permanent", err, tc.wantErr)
			}
			if got := targetHits.Load(); got != tc.hits {
				t.Fatalf("target hit %d times; want %d", got, tc.hits)
			}
		})
	}
	t.Run("too many", func(t *testing.T) {
		c := loopbackCaller(t)
		c.redirects = 1
		_, err := c.post(context.Background(), hop.URL+"/?n=1", http.Header{}, nil, anyURL)
		if !errors.Is(err, ErrRedirectRefused) {
			t.Fatalf("err = %v; want ErrRedirectRefused", err)
		}
	})
}

func TestCallerGuardRefusesLoopbackAndIgnoresProxies(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()

	guarded := newCaller(NewGuard(false, nil), time.Second, 1024, 2)
	defer guarded.close()
	_, err := guarded.post(context.Background(), srv.URL, http.Header{}, nil, anyURL)
	if !errors.Is(err, ErrRefused) || !strings.HasPrefix(describe(err), "refused") {
		t.Fatalf("err = %v (%q); want ErrRefused", err, describe(err))
	}
	open := loopbackCaller(t)
	if _, err := open.post(context.Background(), srv.URL, http.Header{}, nil, anyURL); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 1 {
		t.Fatalf("receiver hit %d times; want 1 (the unguarded call)", hits.Load())
	}
	// A proxy would connect on our behalf, past the guard. Go never
	// proxies loopback targets, so a request cannot show this here; the
	// transport itself must have no proxy function, whatever HTTP_PROXY
	// and HTTPS_PROXY say.
	if guarded.transport.Proxy != nil || open.transport.Proxy != nil {
		t.Fatal("the webhook transport has a Proxy function; want none (proxy environment variables ignored)")
	}
}
