//go:build linux

package loadgen

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestPubConn checks reply parsing and keep-alive against Go's HTTP server,
// which answers each request with the reply its path names.
func TestPubConn(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte(`{"code":200,"message":"OK"}`))
		case "/refused":
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte("no"))
		case "/close":
			w.Header().Set("Connection", "close")
		case "/chunked":
			w.(http.Flusher).Flush()
			w.Write([]byte("x"))
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	p := pubConn{addr: strings.TrimPrefix(srv.URL, "http://"), host: "x"}
	defer p.close()
	tests := []struct {
		path    string
		status  int
		body    string
		err     bool
		dropped bool // the client must drop the connection after it
	}{
		{"/ok", 200, `{"code":200,"message":"OK"}`, false, false},
		{"/refused", 401, "no", false, false},
		{"/close", 200, "", false, true},
		{"/ok", 200, `{"code":200,"message":"OK"}`, false, false},
		{"/chunked", 0, "", true, true},
	}
	for _, tt := range tests {
		status, body, err := p.post(tt.path, []byte(`{"type":"broadcast"}`))
		if (err != nil) != tt.err || status != tt.status || string(body) != tt.body {
			t.Fatalf("%s: got %d %q %v; want %d %q error %v", tt.path, status, body, err, tt.status, tt.body, tt.err)
		}
		if (p.conn == nil) != tt.dropped {
			t.Fatalf("%s: connection dropped = %v; want %v", tt.path, p.conn == nil, tt.dropped)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("server saw %d connections; want 2 (kept alive until Connection: close)", n)
	}
}
