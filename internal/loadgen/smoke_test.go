//go:build linux

package loadgen_test

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/loadgen"
	"github.com/tidings/tidings/internal/server"
	"github.com/tidings/tidings/internal/testnode"
)

const apiKey = "tdk_loadgen_test_key_0123456789"

// workerEnv makes the test binary act as a load generator worker process,
// so that the multi-process path is tested with real processes.
const workerEnv = "LOADGEN_TEST_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) != "" {
		if err := loadgen.Worker(context.Background(), os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startServer runs a real node in-process on 127.0.0.1 and returns its URL.
func startServer(t *testing.T) string {
	t.Helper()
	return testnode.Start(t, server.Config{APIKey: apiKey}).URL
}

func smokeConfig(t *testing.T, base string) loadgen.Config {
	sc, err := loadgen.LookupScenario("smoke")
	if err != nil {
		t.Fatal(err)
	}
	cfg := sc.Config
	cfg.URL, cfg.APIKey, cfg.ServerPID = base, apiKey, os.Getpid()
	cfg.Settle = 200 * time.Millisecond
	return cfg
}

func checkClean(t *testing.T, res *loadgen.Result, subscribers int) {
	t.Helper()
	if res.Subscribers != subscribers || res.Published == 0 {
		t.Errorf("subscribers %d published %d; want %d and > 0", res.Subscribers, res.Published, subscribers)
	}
	if !res.Clean() || res.Expected == 0 {
		t.Errorf("expected %d received %d lost %d duplicated %d out of order %d; connect errors %d disconnects %d publish errors %d; errors %q",
			res.Expected, res.Received, res.Lost, res.Duplicated, res.OutOfOrder, res.ConnectErrors, res.Disconnects, res.PublishErrors, res.Errors)
	}
	if res.Latency.Count == 0 || res.ServerCPUS == nil || res.RSSKiBPerConn == nil {
		t.Errorf("latency count %d, server CPU %v, RSS per connection %v; want figures", res.Latency.Count, res.ServerCPUS, res.RSSKiBPerConn)
	}
}

// TestSmoke is the CI run of the load tool: 200 subscribers on 2 streams
// for 2 s at 50 msg/s against a real node; no delivery may be lost,
// duplicated or reordered. Timing is not asserted.
func TestSmoke(t *testing.T) {
	res, err := loadgen.Run(context.Background(), smokeConfig(t, startServer(t)), io.Discard)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkClean(t, res, 200)
	// Every acknowledged publish reaches the 100 subscribers of its stream.
	if res.Expected != res.Published*100 {
		t.Errorf("expected %d deliveries; want published %d × 100", res.Expected, res.Published)
	}
}

// TestSmokeWorkers splits the subscribers over two worker processes (this
// test binary, re-executed) and merges their accounts.
func TestSmokeWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Setenv(workerEnv, "1")
	cfg := smokeConfig(t, startServer(t))
	cfg.PerProcess = 120
	cfg.Duration = time.Second
	cfg.Worker = []string{os.Args[0], "-test.run=^$"}
	res, err := loadgen.Run(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Processes != 2 {
		t.Errorf("processes = %d; want 2", res.Processes)
	}
	checkClean(t, res, 200)
}

func TestRefusesNonLoopback(t *testing.T) {
	for _, url := range []string{"http://192.0.2.1:8080", "http://8.8.8.8", "http://[2001:db8::1]:80"} {
		_, err := loadgen.Run(context.Background(), loadgen.Config{URL: url, APIKey: apiKey, Subscribers: 1}, io.Discard)
		if !errors.Is(err, loadgen.ErrNotLoopback) {
			t.Errorf("Run(%s) error = %v; want ErrNotLoopback", url, err)
		}
	}
	_, err := loadgen.Run(context.Background(), loadgen.Config{URL: "https://127.0.0.1", Subscribers: 1}, io.Discard)
	if err == nil {
		t.Errorf("Run(https://127.0.0.1) succeeded; want an error")
	}
}
