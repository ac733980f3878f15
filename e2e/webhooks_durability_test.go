package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings/tidings/client"
	"github.com/tidings/tidings/internal/server"
)

// A receiver that streams 100 MB and one that never answers cost bounded
// memory and time, and do not hold up a healthy delivery.
func TestWebhookResponseBounds(t *testing.T) {
	huge := newHookReceiver(t, func(w http.ResponseWriter, _ int, _ hookCall) {
		w.Header().Set("Content-Type", "text/plain")
		chunk := []byte(strings.Repeat("x", 64<<10))
		for range 100 << 20 / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so a closed connection ends r.Context
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) })
	healthy := newHookReceiver(t, status(http.StatusOK))
	n := startNode(t, server.Config{Webhooks: server.WebhookConfig{AllowPrivate: true, Timeout: 2 * time.Second, Attempts: 1}})
	stream, _ := liveStream(t, n.admin())
	wd := hookWidget(t, n.admin(), huge.host(), strings.TrimPrefix(hang.URL, "http://"), healthy.host())
	pub := subscribe(t, n.anon(), stream)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	for range 3 {
		if err := publishHook(pub, wd.Key, hang.URL); err != nil {
			t.Fatal(err)
		}
	}
	if err := publishHook(pub, wd.Key, huge.URL); err != nil {
		t.Fatal(err)
	}
	if err := publishHook(pub, wd.Key, healthy.URL); err != nil {
		t.Fatal(err)
	}
	results := map[string][]hookResult{}
	seen := map[string]time.Duration{}
	for range 5 {
		res, _ := nextResult(t, pub)
		results[res.URL] = append(results[res.URL], res)
		if _, ok := seen[res.URL]; !ok {
			seen[res.URL] = time.Since(start)
		}
	}
	runtime.ReadMemStats(&after)
	t.Logf("first results after: healthy %v, 100 MB %v, never answering %v", seen[healthy.URL], seen[huge.URL], seen[hang.URL])
	if seen[healthy.URL] > time.Second || seen[healthy.URL] > seen[hang.URL] {
		t.Fatalf("healthy result after %v, hanging ones after %v; want the healthy one first, quickly", seen[healthy.URL], seen[hang.URL])
	}
	big := results[huge.URL][0]
	var text string
	if err := json.Unmarshal(big.Body, &text); err != nil || !big.OK || !big.Truncated || len(text) != 64<<10 {
		t.Fatalf("100 MB answer: ok %v truncated %v, %d bytes kept (%v); want 64 KiB, truncated", big.OK, big.Truncated, len(text), err)
	}
	for _, res := range results[hang.URL] {
		if res.OK || !strings.HasPrefix(res.Error, "timed out") {
			t.Fatalf("never answering: %+v; want timed out", res)
		}
	}
	if len(results[hang.URL]) != 3 || seen[hang.URL] < 2*time.Second {
		t.Fatalf("%d hanging results, first after %v; want 3 after the 2s timeout", len(results[hang.URL]), seen[hang.URL])
	}
	grew := int64(after.TotalAlloc - before.TotalAlloc)
	t.Logf("allocated %d MB in all while a receiver offered 100 MB", grew>>20)
	if grew > 64<<20 {
		t.Fatalf("allocated %d MB; the answer must be read only up to its bound", grew>>20)
	}
}

// Deliveries queued when the server is killed are made after it restarts,
// and their results reach the requester, who resumes.
func TestWebhookDeliveriesSurviveKill9(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	rcv := newHookReceiver(t, func(w http.ResponseWriter, n int, c hookCall) {
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		status(http.StatusOK)(w, n, c)
	})
	dir := t.TempDir()
	flags := []string{"--webhook-allow-private", "--webhook-backoff", "100ms", "--webhook-attempts", "100", "--webhook-timeout", "1s"}
	p := startProc(t, dir, flags...)
	admin := client.New(p.URL, client.WithAPIKey(adminKey))
	stream, _ := liveStream(t, admin)
	wd := hookWidget(t, admin, rcv.host())
	sub := subscribe(t, client.New(p.URL), stream)
	const jobs = 5
	for i := range jobs {
		if err := publishHook(sub, wd.Key, fmt.Sprintf("%s/job/%d", rcv.URL, i)); err != nil {
			t.Fatal(err)
		}
	}
	// Each has been tried and failed: it is queued for another attempt.
	waitTried(t, rcv, jobs)
	lastID := sub.LastEventID()
	p.kill()
	sub.Close()
	killed := time.Now()
	triedBefore := len(rcv.seen())

	p = startProc(t, dir, flags...)
	failing.Store(false)
	resumed := subscribe(t, client.New(p.URL), stream, client.WithLastEventID(lastID))
	done := map[string]bool{}
	for len(done) < jobs {
		res, _ := nextResult(t, resumed)
		if !res.OK {
			t.Fatalf("result %+v; want success after the restart", res)
		}
		done[res.DeliveryID] = true
	}
	t.Logf("%d calls failed before kill -9; all %d delivered %v after it (restart included)", triedBefore, jobs, time.Since(killed))
	ok := map[string]bool{}
	for _, c := range rcv.seen()[triedBefore:] {
		ok[c.Delivery] = true
	}
	for id := range done {
		if !ok[id] {
			t.Fatalf("delivery %s reported done but not received after the restart", id)
		}
	}
}

// waitTried waits until the receiver has seen jobs distinct deliveries.
func waitTried(t *testing.T, rcv *hookReceiver, jobs int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for distinct(rcv.seen()) < jobs {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d deliveries tried", distinct(rcv.seen()), jobs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func distinct(calls []hookCall) int {
	ids := map[string]bool{}
	for _, c := range calls {
		ids[c.Delivery] = true
	}
	return len(ids)
}

// With two nodes on one NATS, either node's workers make the calls and the
// result reaches the requester wherever it is connected; when a node stops,
// the other takes over the deliveries still queued.
func TestWebhookClusterTakesOver(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	rcv := newHookReceiver(t, func(w http.ResponseWriter, n int, c hookCall) {
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		status(http.StatusOK)(w, n, c)
	})
	url := startNATS(t)
	// Retries keep coming every 200 ms at most, however long the jobs
	// failed before node A goes: B's results are due within a second.
	hooks := server.WebhookConfig{AllowPrivate: true, Backoff: 100 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Attempts: 1000}
	a := startNode(t, server.Config{NATSURL: url, Node: "node-a", Webhooks: hooks})
	b := startNode(t, server.Config{NATSURL: url, Node: "node-b", Webhooks: hooks})
	stream, _ := liveStream(t, a.admin())
	wd := hookWidget(t, a.admin(), rcv.host())
	sub := subscribe(t, a.anon(), stream)
	const jobs = 6
	for i := range jobs {
		if err := publishHook(sub, wd.Key, fmt.Sprintf("%s/job/%d", rcv.URL, i)); err != nil {
			t.Fatal(err)
		}
	}
	waitTried(t, rcv, jobs)
	lastID := sub.LastEventID()
	sub.Close()
	a.stop() // the node the requester used goes away
	failing.Store(false)
	onB := subscribe(t, b.anon(), stream, client.WithLastEventID(lastID))
	done := map[string]bool{}
	for len(done) < jobs {
		res, _ := nextResult(t, onB)
		if !res.OK {
			t.Fatalf("result %+v; want success", res)
		}
		done[res.DeliveryID] = true
	}
	if m := b.srv.Webhooks().Metrics().Snapshot(); m.Delivered != jobs {
		t.Fatalf("node B metrics %+v; want all %d delivered by B", m, jobs)
	}
}
