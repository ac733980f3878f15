package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/server"
	"github.com/tidings/tidings/internal/testnode"
)

// startNodeOn is startNode on a given address, so a test can restart a node
// where browsers expect it.
func startNodeOn(t *testing.T, cfg server.Config, addr string) *node {
	t.Helper()
	return serveNode(t, newNodeServer(t, cfg), addr)
}

// newNodeServer builds a node's server without serving it yet.
func newNodeServer(t *testing.T, cfg server.Config) *server.Server {
	t.Helper()
	return testnode.New(t, cfg)
}

// serveNode serves srv on addr until the test ends or the node is stopped.
func serveNode(t *testing.T, srv *server.Server, addr string) *node {
	t.Helper()
	return wrap(testnode.Serve(t, srv, addr))
}

// startDemo runs `tidings serve --demo` as a newcomer would and returns the
// chat URL it prints (and the server's base URL).
func startDemo(t *testing.T) (chatURL, base string) {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--demo", "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "warn")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt) // graceful, as Ctrl-C
		_ = cmd.Wait()
	})
	printed := make(chan []string, 1)
	go func() {
		open := regexp.MustCompile(`Open (http://\S+)/examples/live-chat/`)
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			if m := open.FindStringSubmatch(lines.Text()); m != nil {
				printed <- m
			}
		}
	}()
	select {
	case m := <-printed:
		waitHealthy(t, m[1])
		return m[0][len("Open "):], m[1]
	case <-time.After(30 * time.Second):
		t.Fatal("tidings serve --demo printed no URL to open within 30s")
		return "", ""
	}
}
