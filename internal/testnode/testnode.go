// Package testnode starts real Tidings nodes for tests: the same wiring
// `tidings serve` uses, on a loopback port, with a fresh data directory.
// The client, CLI, load generator and end-to-end tests all use it, so they
// test what users run rather than a stand-in.
package testnode

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/server"
)

// AdminKey is the admin application key every test node registers.
const AdminKey = "tdk_test_admin_key_0123456789"

// Node is one running node.
type Node struct {
	Srv    *server.Server
	URL    string
	t      testing.TB
	cancel context.CancelFunc
	done   chan error
}

// New builds a node's server without serving it. cfg's zero fields get
// test defaults: a fresh temp data dir (unless an external NATS is used),
// AdminKey, and no start banner.
func New(t testing.TB, cfg server.Config) *server.Server {
	t.Helper()
	if cfg.DataDir == "" && cfg.NATSURL == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.APIKey == "" {
		cfg.APIKey = AdminKey
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Logger == nil && os.Getenv("TIDINGS_TEST_LOG") != "" {
		// For debugging a test: the node's own log on stderr.
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	return srv
}

// Start builds and serves a node on a random loopback port.
func Start(t testing.TB, cfg server.Config) *Node {
	t.Helper()
	return Serve(t, New(t, cfg), "127.0.0.1:0")
}

// Serve serves srv on addr (retrying briefly while an old listener's port
// is released) until the test ends or Stop is called, and waits until the
// node answers /healthz.
func Serve(t testing.TB, srv *server.Server, addr string) *Node {
	t.Helper()
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; {
		if ln, err = net.Listen("tcp", addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		srv.Close()
		t.Fatalf("listen on %s: %v", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{Srv: srv, URL: "http://" + ln.Addr().String(), t: t, cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(n.Stop)
	WaitHealthy(t, n.URL)
	return n
}

// Stop shuts the node down gracefully and waits for it; it is idempotent.
func (n *Node) Stop() {
	if n.cancel == nil {
		return
	}
	n.cancel()
	n.cancel = nil
	select {
	case err := <-n.done:
		if err != nil {
			n.t.Errorf("node stopped with error: %v", err)
		}
	case <-time.After(30 * time.Second):
		n.t.Errorf("node did not stop within 30s")
	}
}

// WaitHealthy waits until base/healthz answers 200.
func WaitHealthy(t testing.TB, base string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s/healthz did not answer 200 within 20s", base)
}
