package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings/tidings/client"
	"github.com/tidings/tidings/internal/server"
	"github.com/tidings/tidings/internal/webhooks"
)

// Every webhook receiver in these tests listens on 127.0.0.1.

func TestWebhookHappyPath(t *testing.T) {
	n := startNode(t, server.Config{Webhooks: server.WebhookConfig{AllowPrivate: true}})
	admin := n.admin()
	ctx := context.Background()
	stream, _ := liveStream(t, admin)
	var secret atomic.Value
	rcv := newHookReceiver(t, func(w http.ResponseWriter, n int, c hookCall) {
		// The receiver checks the signature the documented way.
		if err := client.VerifyWebhook(secret.Load().(string), c.Signature, c.Body, 5*time.Minute); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, "bad signature: %v", err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"forecast":"sunny","call":%d}`, n)
	})
	wd := hookWidget(t, admin, rcv.host())
	secret.Store(wd.WebhookSecret)
	pub := subscribe(t, n.anon(), stream)
	other := subscribe(t, n.anon(), stream)

	start := time.Now()
	if err := publishHook(pub, wd.Key, rcv.URL+"/weather?city=Oslo"); err != nil {
		t.Fatalf("publish webhook: %v", err)
	}
	res, env := nextResult(t, pub)
	t.Logf("publish → receiver → result over SSE: %v", time.Since(start))
	if !res.OK || res.Status != 200 || string(res.Body) != `{"forecast":"sunny","call":0}` || res.Attempts != 1 || res.Error != "" {
		t.Fatalf("result %+v body %s; want 200 with the receiver's JSON", res, res.Body)
	}
	if env.AuthorID != "0" || env.ToUserID != pub.UserID() || env.StreamID != fmt.Sprint(stream) || res.URL != rcv.URL+"/weather?city=Oslo" {
		t.Fatalf("envelope %+v url %q; want from the server to the publisher", env, res.URL)
	}
	calls := rcv.seen()
	var p webhooks.Payload
	if err := json.Unmarshal(calls[0].Body, &p); err != nil {
		t.Fatal(err)
	}
	if p.DeliveryID != res.DeliveryID || calls[0].Delivery != res.DeliveryID || p.AuthorID != pub.UserID() ||
		p.WidgetID != wd.ID || p.StreamID != fmt.Sprint(stream) || !strings.Contains(string(p.Message), `"ask":"weather"`) {
		t.Fatalf("receiver got %s (delivery header %q)", calls[0].Body, calls[0].Delivery)
	}
	if strings.Contains(string(calls[0].Body), wd.Key) {
		t.Fatal("the widget key was sent to the receiver")
	}

	// No one else gets the result: a broadcast sent after it reaches the
	// other subscriber with no webhook envelope before it.
	if err := other.Broadcast(ctx, wd.Key, text("marker")); err != nil {
		t.Fatal(err)
	}
	got := next(t, other, "the marker", func(e client.Envelope) bool {
		return e.Type == client.TypeWebhook || e.Type == client.TypeBroadcast
	})
	if got.Type != client.TypeBroadcast {
		t.Fatalf("another subscriber got %s %s", got.Type, got.Message)
	}

	// A new secret signs the calls made from then on.
	wd2, err := admin.RegenerateWebhookSecret(ctx, wd.ID)
	if err != nil || wd2.WebhookSecret == wd.WebhookSecret || !strings.HasPrefix(wd2.WebhookSecret, "whsec_") {
		t.Fatalf("RegenerateWebhookSecret: %+v, %v", wd2, err)
	}
	secret.Store(wd2.WebhookSecret)
	if err := publishHook(pub, wd.Key, rcv.URL+"/again"); err != nil {
		t.Fatal(err)
	}
	if res, _ := nextResult(t, pub); !res.OK {
		t.Fatalf("after a new secret: %+v %s", res, res.Body)
	}
}

func TestWebhookGuardRefusesLoopback(t *testing.T) {
	target := newHookReceiver(t, status(http.StatusOK))
	port := target.host()[strings.LastIndex(target.host(), ":")+1:]
	// An address the operator allows, which redirects to one it does not.
	redirector := newHookReceiver(t, func(w http.ResponseWriter, _ int, _ hookCall) {
		w.Header().Set("Location", target.URL+"/redirected")
		w.WriteHeader(http.StatusTemporaryRedirect)
	})
	n := startNode(t, server.Config{Webhooks: server.WebhookConfig{AllowHTTP: true, AllowAddrs: []string{redirector.host()}}})
	admin := n.admin()
	stream, _ := liveStream(t, admin)
	// Every target is on the widget's list, so only the address guard
	// stands between the webhook and the receiver.
	var hosts, urls []string
	for _, h := range []string{"127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", "0.0.0.0"} {
		hosts = append(hosts, h+":"+port)
		urls = append(urls, "http://"+h+":"+port+"/steal")
	}
	hosts = append(hosts, redirector.host())
	urls = append(urls, redirector.URL+"/hop")
	wd := hookWidget(t, admin, hosts...)
	pub := subscribe(t, n.anon(), stream)
	for _, u := range urls {
		if err := publishHook(pub, wd.Key, u); err != nil {
			t.Fatalf("publish %s: %v; want it accepted (the guard acts when connecting)", u, err)
		}
	}
	refused := map[string]hookResult{}
	for range urls {
		res, _ := nextResult(t, pub)
		refused[res.URL] = res
	}
	for _, u := range urls {
		res, ok := refused[u]
		if !ok || res.OK || res.Status != 0 || res.Attempts != 1 || !strings.HasPrefix(res.Error, "refused") {
			t.Errorf("%s: result %+v; want refused after one attempt", u, res)
		}
	}
	time.Sleep(300 * time.Millisecond) // would a retry come?
	if calls := target.seen(); len(calls) != 0 {
		t.Fatalf("the receiver got %d call(s); want none", len(calls))
	}
	if calls := redirector.seen(); len(calls) != 1 {
		t.Fatalf("the redirector got %d call(s); want 1", len(calls))
	}
	if m := n.srv.Webhooks().Metrics().Snapshot(); m.Refused != uint64(len(urls)) || m.Retried != 0 {
		t.Fatalf("metrics %+v; want %d refused, no retries", m, len(urls))
	}

	// A host not on the list is refused at once, naming the host.
	err := publishHook(pub, wd.Key, "http://127.0.0.2:"+port+"/")
	if !client.IsStatus(err, http.StatusForbidden) || !strings.Contains(err.Error(), `"127.0.0.2:`+port+`"`) {
		t.Fatalf("host not allowed: %v; want 403 naming 127.0.0.2:%s", err, port)
	}
}

func TestWebhookRetriesKeepTheDeliveryID(t *testing.T) {
	rcv := newHookReceiver(t, func(w http.ResponseWriter, n int, c hookCall) {
		if n < 2 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		status(http.StatusOK)(w, n, c)
	})
	n := startNode(t, server.Config{Webhooks: server.WebhookConfig{AllowPrivate: true, Backoff: 100 * time.Millisecond}})
	stream, _ := liveStream(t, n.admin())
	wd := hookWidget(t, n.admin(), rcv.host())
	pub := subscribe(t, n.anon(), stream)
	if err := publishHook(pub, wd.Key, rcv.URL); err != nil {
		t.Fatal(err)
	}
	res, _ := nextResult(t, pub)
	if !res.OK || res.Attempts != 3 {
		t.Fatalf("result %+v; want success on attempt 3", res)
	}
	calls := rcv.seen()
	if len(calls) != 3 {
		t.Fatalf("%d calls; want 3", len(calls))
	}
	for i, c := range calls {
		if c.Delivery != res.DeliveryID || c.Attempt != fmt.Sprint(i+1) || string(c.Body) != string(calls[0].Body) {
			t.Fatalf("call %d: delivery %q attempt %q; want %q, %d, the same body", i, c.Delivery, c.Attempt, res.DeliveryID, i+1)
		}
	}
	t.Logf("waits between attempts: %v, %v (backoff 100ms, doubling)", calls[1].At.Sub(calls[0].At), calls[2].At.Sub(calls[1].At))
}

func TestWebhookDeadLetterAfterTheLastAttempt(t *testing.T) {
	rcv := newHookReceiver(t, status(http.StatusBadGateway))
	n := startNode(t, server.Config{Webhooks: server.WebhookConfig{AllowPrivate: true, Attempts: 3, Backoff: 50 * time.Millisecond}})
	stream, _ := liveStream(t, n.admin())
	wd := hookWidget(t, n.admin(), rcv.host())
	pub := subscribe(t, n.anon(), stream)
	if err := publishHook(pub, wd.Key, rcv.URL); err != nil {
		t.Fatal(err)
	}
	res, _ := nextResult(t, pub)
	if res.OK || res.Status != http.StatusBadGateway || res.Attempts != 3 || !strings.Contains(res.Error, "after 3 attempts") {
		t.Fatalf("result %+v; want the 502 failure after 3 attempts", res)
	}
	if calls := rcv.seen(); len(calls) != 3 {
		t.Fatalf("%d calls; want 3", len(calls))
	}
	dead, err := n.srv.Webhooks().DeadLetter(context.Background(), res.DeliveryID)
	if err != nil {
		t.Fatalf("dead letter of %s: %v", res.DeliveryID, err)
	}
	var rec struct {
		ID     string `json:"id"`
		URL    string `json:"url"`
		Status int    `json:"status"`
		Error  string `json:"error"`
	}
	if err := json.Unmarshal(dead, &rec); err != nil || rec.ID != res.DeliveryID || rec.Status != 502 || rec.URL != rcv.URL {
		t.Fatalf("dead letter %s: %v", dead, err)
	}
}
