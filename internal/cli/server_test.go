package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/tidings/tidings/client"
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

// runCLI runs the CLI against base with key (passed as --server and
// --api-key flags when non-empty) and returns its stdout.
func runCLI(base, key string, args ...string) (string, error) {
	var out bytes.Buffer
	var global []string
	if base != "" {
		global = append(global, "--server", base)
	}
	if key != "" {
		global = append(global, "--api-key", key)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := Run(ctx, append(global, args...), nil, &out, io.Discard)
	return out.String(), err
}

// runJSON runs the CLI with --json and decodes its stdout into v.
func runJSON(t *testing.T, base string, v any, args ...string) {
	t.Helper()
	out, err := runCLI(base, adminKey, append([]string{"--json"}, args...)...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("%v: output %q: %v", args, out, err)
	}
}

// liveStream creates and starts a stream and a widget through the CLI and
// returns the stream id (as a string) and the widget key.
func liveStream(t *testing.T, base string) (string, string) {
	t.Helper()
	var st client.Stream
	runJSON(t, base, &st, "streams", "create", "--name", "live "+t.Name())
	id := strconv.FormatInt(st.ID, 10)
	if _, err := runCLI(base, adminKey, "streams", "start", id); err != nil {
		t.Fatalf("streams start: %v", err)
	}
	var w client.Widget
	runJSON(t, base, &w, "widgets", "create", "--name", "w "+t.Name())
	return id, w.Key
}

// decode unmarshals the JSON text s into v.
func decode(s string, v any) error { return json.Unmarshal([]byte(s), v) }
