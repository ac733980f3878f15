package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func serve(t *testing.T, cfg Config) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	New(cfg).Mount(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// Redirects are checked, not followed.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func demoOf(id int64, key string) func(context.Context) (Demo, error) {
	return func(context.Context) (Demo, error) { return Demo{StreamID: id, WidgetKey: key}, nil }
}

func TestFiles(t *testing.T) {
	ts := serve(t, Config{})
	for _, c := range []struct {
		path, status, ctype, contains string
	}{
		{"/sdk/tidings.js", "200", "text/javascript; charset=utf-8", "export function connect"},
		{"/sdk/tidings.d.ts", "200", "text/plain; charset=utf-8", "export class TidingsError"},
		{"/sdk/README.md", "200", "text/plain; charset=utf-8", "# Tidings browser SDK"},
		{"/examples/", "200", "text/html; charset=utf-8", "Tidings examples"},
		{"/examples/live-chat/", "200", "text/html; charset=utf-8", `id="list"`},
		{"/examples/live-chat/chat.js", "200", "text/javascript; charset=utf-8", "textContent"},
		{"/examples/banner/logs.html", "200", "text/html; charset=utf-8", `id="click-counter"`},
		{"/examples/shared/style.css", "200", "text/css; charset=utf-8", "body"},
		{"/examples/embed.go", "404", "application/json; charset=utf-8", `"code":404`},
		{"/examples/nothing.js", "404", "application/json; charset=utf-8", "no such file: /examples/nothing.js"},
		{"/sdk/embed.go", "404", "application/json; charset=utf-8", `"code":404`},
	} {
		resp, body := get(t, ts.URL+c.path, nil)
		if got := resp.Status[:3]; got != c.status {
			t.Errorf("GET %s: status %s; want %s", c.path, got, c.status)
		}
		if got := resp.Header.Get("Content-Type"); got != c.ctype {
			t.Errorf("GET %s: Content-Type %q; want %q", c.path, got, c.ctype)
		}
		if !strings.Contains(body, c.contains) {
			t.Errorf("GET %s: body lacks %q", c.path, c.contains)
		}
	}
}

func TestRevalidationAndRedirect(t *testing.T) {
	ts := serve(t, Config{})
	resp, _ := get(t, ts.URL+"/sdk/tidings.js", nil)
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("headers %v; want an ETag and nosniff", resp.Header)
	}
	if resp, _ := get(t, ts.URL+"/sdk/tidings.js", map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d; want 304", resp.StatusCode)
	}
	resp, _ = get(t, ts.URL+"/examples/live-chat", nil)
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/examples/live-chat/" {
		t.Errorf("directory without slash: %d %q; want 301 to /examples/live-chat/", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestConfigJS(t *testing.T) {
	for _, c := range []struct {
		name string
		demo func(context.Context) (Demo, error)
		want []string
	}{
		{"no demo", nil, []string{"streamId: null,", "widgetKey: null,"}},
		{"demo", demoOf(7, "k-1"), []string{"streamId: 7,", `widgetKey: "k-1",`}},
		// A key can never break out of the string, whatever it holds.
		{"hostile key", demoOf(7, `"</script>`), []string{`widgetKey: "\"\u003c/script\u003e",`}},
		{"demo unreadable", func(context.Context) (Demo, error) { return Demo{}, errors.New("engine down") },
			[]string{"streamId: null,"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := get(t, serve(t, Config{Demo: c.demo}).URL+"/examples/config.js", nil)
			if resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("headers %v", resp.Header)
			}
			for _, w := range append(c.want, "export default", "import.meta.url") {
				if !strings.Contains(body, w) {
					t.Errorf("config.js lacks %q:\n%s", w, body)
				}
			}
		})
	}
}

func TestLanding(t *testing.T) {
	resp, body := get(t, serve(t, Config{Demo: demoOf(3, "wk-<b>")}).URL+"/", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, w := range []string{`href="/examples/live-chat/"`, `href="/examples/banner/"`, `href="/sdk/tidings.js"`,
		`href="/sdk/README.md"`, "stream <b>3</b>", "wk-&lt;b&gt;", "/sdk/tidings.js';"} {
		if !strings.Contains(body, w) {
			t.Errorf("landing page lacks %q", w)
		}
	}
	_, body = get(t, serve(t, Config{}).URL+"/", nil)
	if !strings.Contains(body, `<form action="/examples/live-chat/"`) || strings.Contains(body, "open-chat") {
		t.Errorf("landing page without demo: want the stream and key form, no demo link")
	}
	if resp, _ := get(t, serve(t, Config{}).URL+"/elsewhere", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /elsewhere: %d; the landing page is only at /", resp.StatusCode)
	}
}
