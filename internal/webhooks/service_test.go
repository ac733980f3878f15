package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/client"
	"github.com/tidings/tidings/internal/channel"
	"github.com/tidings/tidings/internal/engine"
	"github.com/tidings/tidings/internal/fault"
	"github.com/tidings/tidings/internal/store"
	"github.com/tidings/tidings/internal/webhooks"
	"github.com/tidings/tidings/internal/widgets"
)

// These tests run the service over a real embedded engine queue, against
// receivers on 127.0.0.1.

const secret = "whsec_test"

// registry stands in for the widget registry.
type registry struct {
	mu sync.Mutex
	m  map[int64]widgets.Widget
}

func (r *registry) Get(account string, id int64) (widgets.Widget, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w, ok := r.m[id]; ok && w.Account == account {
		return w, nil
	}
	return widgets.Widget{}, fault.Errorf(fault.ErrNotFound, "widget %d not found", id)
}

func (r *registry) EnsureWebhookSecret(_ context.Context, account string, id int64) (widgets.Widget, error) {
	return r.Get(account, id)
}

func (r *registry) set(w widgets.Widget) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[w.ID] = w
}

// results records what requesters are told.
type results chan webhooks.Result

func (r results) SendResult(_ context.Context, _ int64, _, _ string, message any) error {
	r <- message.(webhooks.Result)
	return nil
}

func (r results) next(t *testing.T, within time.Duration) webhooks.Result {
	t.Helper()
	select {
	case res := <-r:
		return res
	case <-time.After(within):
		t.Fatalf("no result within %v", within)
		return webhooks.Result{}
	}
}

// receiver is an httptest server answering with the statuses in order (the
// last one from then on), recording each request.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	bodies   [][]byte
	at       []time.Time
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.requests)
		r.requests, r.bodies, r.at = append(r.requests, req), append(r.bodies, b), append(r.at, time.Now())
		r.mu.Unlock()
		status := statuses[min(n, len(statuses)-1)]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"attempt":%d}`, n+1)
	}))
	t.Cleanup(r.Close)
	return r
}

// seen returns the requests so far, their bodies and arrival times.
func (r *receiver) seen() ([]*http.Request, [][]byte, []time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests, r.bodies, r.at
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

type fixture struct {
	svc     *webhooks.Service
	results results
	widgets *registry
}

func start(t *testing.T, cfg webhooks.Config, hosts ...string) *fixture {
	t.Helper()
	e, err := engine.Open(context.Background(), engine.Config{DataDir: t.TempDir(), Name: "wh-test"})
	if err != nil {
		t.Fatal(err)
	}
	q, err := e.Queue(context.Background(), engine.QueueConfig{Name: "WEBHOOKS", Subject: "wh", AckWait: webhooks.AckWait(cfg.Timeout)})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{results: make(results, 100), widgets: &registry{m: map[int64]widgets.Widget{}}}
	for id := int64(1); id <= 2; id++ {
		f.widgets.set(widgets.Widget{ID: id, Account: "acct", WebhookHosts: hosts, WebhookSecret: secret})
	}
	cfg.Queue, cfg.Widgets, cfg.Results, cfg.AllowPrivate = q, f.widgets, f.results, true
	f.svc = webhooks.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	if err := f.svc.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		f.svc.Wait()
		e.Close()
	})
	return f
}

func (f *fixture) submit(t *testing.T, widget int64, url string) error {
	t.Helper()
	w, _ := f.widgets.Get("acct", widget)
	return f.svc.Submit(context.Background(), channel.WebhookRequest{
		Stream: 3, User: "42", Widget: w,
		Message: json.RawMessage(fmt.Sprintf(`{"url":%q,"q":"weather"}`, url)),
	})
}

func TestServiceDeliversSignedCallsAndReports(t *testing.T) {
	rcv := newReceiver(t, 200)
	f := start(t, webhooks.Config{}, "127.0.0.1")
	sent := time.Now()
	if err := f.submit(t, 1, rcv.URL+"/hook"); err != nil {
		t.Fatal(err)
	}
	res := f.results.next(t, 5*time.Second)
	t.Logf("publish to result: %v", time.Since(sent))
	if !res.OK || res.Status != 200 || string(res.Body) != `{"attempt":1}` || res.Attempts != 1 || !strings.HasPrefix(res.DeliveryID, "wh_") {
		t.Fatalf("result %+v body %s", res, res.Body)
	}
	reqs, bodies, _ := rcv.seen()
	req, body := reqs[0], bodies[0]
	if err := client.VerifyWebhook(secret, req.Header.Get(webhooks.SignatureHeader), body, time.Minute); err != nil {
		t.Fatalf("signature: %v", err)
	}
	var p webhooks.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.DeliveryID != res.DeliveryID || req.Header.Get(webhooks.DeliveryHeader) != res.DeliveryID ||
		p.StreamID != "3" || p.AuthorID != "42" || p.WidgetID != 1 || !strings.Contains(string(p.Message), `"q":"weather"`) {
		t.Fatalf("payload %s, delivery header %q", body, req.Header.Get(webhooks.DeliveryHeader))
	}
	if string(res.Request) != string(p.Message) {
		t.Fatalf("result request %s; want the widget's message %s", res.Request, p.Message)
	}
}

func TestServiceRetriesWithBackoff(t *testing.T) {
	rcv := newReceiver(t, 500, 500, 200)
	f := start(t, webhooks.Config{Backoff: 200 * time.Millisecond}, "127.0.0.1")
	if err := f.submit(t, 1, rcv.URL); err != nil {
		t.Fatal(err)
	}
	res := f.results.next(t, 10*time.Second)
	if !res.OK || res.Attempts != 3 || string(res.Body) != `{"attempt":3}` {
		t.Fatalf("result %+v %s; want OK on attempt 3", res, res.Body)
	}
	reqs, _, at := rcv.seen()
	for i, req := range reqs {
		if req.Header.Get(webhooks.DeliveryHeader) != res.DeliveryID || req.Header.Get(webhooks.AttemptHeader) != fmt.Sprint(i+1) {
			t.Fatalf("request %d: delivery %q attempt %q; want %q, %d", i, req.Header.Get(webhooks.DeliveryHeader), req.Header.Get(webhooks.AttemptHeader), res.DeliveryID, i+1)
		}
	}
	gap1, gap2 := at[1].Sub(at[0]), at[2].Sub(at[1])
	t.Logf("waits between attempts: %v, %v", gap1, gap2)
	if gap1 < 200*time.Millisecond || gap2 < 400*time.Millisecond {
		t.Fatalf("waits %v, %v; want at least 200ms then 400ms", gap1, gap2)
	}
	if s := f.svc.Metrics().Snapshot(); s.Retried != 2 || s.Delivered != 1 || s.Failed != 0 {
		t.Fatalf("metrics %+v", s)
	}
}

func TestServiceGivesUpIntoTheDeadLetters(t *testing.T) {
	rcv := newReceiver(t, 503)
	f := start(t, webhooks.Config{Attempts: 3, Backoff: 50 * time.Millisecond}, "127.0.0.1")
	if err := f.submit(t, 1, rcv.URL); err != nil {
		t.Fatal(err)
	}
	res := f.results.next(t, 10*time.Second)
	if res.OK || res.Status != 503 || res.Attempts != 3 || !strings.Contains(res.Error, "503") || rcv.count() != 3 {
		t.Fatalf("result %+v after %d calls; want a 503 failure after 3", res, rcv.count())
	}
	dead, err := f.svc.DeadLetter(context.Background(), res.DeliveryID)
	if err != nil || !strings.Contains(string(dead), res.DeliveryID) || !strings.Contains(string(dead), "503") {
		t.Fatalf("dead letter %s, %v", dead, err)
	}
	if _, err := f.svc.DeadLetter(context.Background(), "wh_nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown dead letter: %v", err)
	}
}

func TestServiceDoesNotRetryFinalAnswers(t *testing.T) {
	rcv := newReceiver(t, 404)
	f := start(t, webhooks.Config{Backoff: 50 * time.Millisecond}, "127.0.0.1")
	if err := f.submit(t, 1, rcv.URL); err != nil {
		t.Fatal(err)
	}
	res := f.results.next(t, 5*time.Second)
	if res.OK || res.Status != 404 || res.Error != "" || res.Attempts != 1 {
		t.Fatalf("result %+v; want the 404 reported as the answer", res)
	}
	time.Sleep(200 * time.Millisecond)
	if rcv.count() != 1 {
		t.Fatalf("%d calls; want 1", rcv.count())
	}
}

// A widget whose receiver never answers holds its own slots only.
func TestServiceSlowWidgetDoesNotBlockOthers(t *testing.T) {
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(hang)
	fast := newReceiver(t, 200)
	f := start(t, webhooks.Config{Timeout: 2 * time.Second, Concurrency: 4, WidgetConcurrency: 1, Attempts: 1}, "127.0.0.1")
	for range 4 {
		if err := f.submit(t, 1, slow.URL); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	if err := f.submit(t, 2, fast.URL); err != nil {
		t.Fatal(err)
	}
	for {
		res := f.results.next(t, 10*time.Second)
		if res.OK {
			t.Logf("healthy delivery done in %v while the other widget's calls hang", time.Since(start))
			if time.Since(start) > time.Second {
				t.Fatalf("healthy delivery took %v; want it not to wait for the hanging ones", time.Since(start))
			}
			break
		}
	}
	if s := f.svc.Metrics().Snapshot(); s.Deferred == 0 {
		t.Fatalf("metrics %+v; want deferrals of the slow widget's jobs", s)
	}
}

func TestServiceRateLimitsPublishes(t *testing.T) {
	f := start(t, webhooks.Config{Rate: 2}, "127.0.0.1")
	var errs []error
	for range 3 {
		errs = append(errs, f.submit(t, 1, "http://127.0.0.1:9/"))
	}
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], fault.ErrRateLimited) {
		t.Fatalf("errors %v; want nil, nil, rate limited", errs)
	}
	var fe *fault.Error
	if !errors.As(errs[2], &fe) || fe.RetryAfter <= 0 || fe.RetryAfter > time.Second {
		t.Fatalf("refusal %#v; want a Retry-After hint of at most 1s at 2 calls/s", errs[2])
	}
	if err := f.submit(t, 2, "http://127.0.0.1:9/"); err != nil {
		t.Fatalf("another widget: %v; want its own budget", err)
	}
}

// A host the owner removes is not called any more, even by queued retries.
func TestServiceRechecksHostsBeforeEachAttempt(t *testing.T) {
	rcv := newReceiver(t, 500)
	f := start(t, webhooks.Config{Backoff: 300 * time.Millisecond}, "127.0.0.1")
	if err := f.submit(t, 1, rcv.URL); err != nil {
		t.Fatal(err)
	}
	for rcv.count() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	w, _ := f.widgets.Get("acct", 1)
	w.WebhookHosts = []string{"api.example.com"}
	f.widgets.set(w)
	res := f.results.next(t, 5*time.Second)
	if res.OK || !strings.Contains(res.Error, "no longer") || rcv.count() != 1 {
		t.Fatalf("result %+v after %d calls; want the retry stopped", res, rcv.count())
	}
}
