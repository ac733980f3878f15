package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tidings/tidings/client"
	"github.com/tidings/tidings/internal/server"
)

func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	first := startNode(t, server.Config{DataDir: dir})
	stream, w := liveStream(t, first.admin())
	key, err := first.admin().CreateKey(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	acct, err := first.admin().CreateAccount(ctx, "tenant")
	if err != nil {
		t.Fatal(err)
	}
	sub := subscribe(t, first.anon(), stream)
	for i := range 3 {
		if err := sub.Broadcast(ctx, w.Key, text(fmt.Sprint("m", i))); err != nil {
			t.Fatal(err)
		}
	}
	sub.Close()
	first.stop()

	second := startNode(t, server.Config{DataDir: dir})
	st, err := second.admin().GetStream(ctx, stream)
	if err != nil || string(st.State) != "live" {
		t.Fatalf("stream after restart: %+v, %v", st, err)
	}
	for name, c := range map[string]*client.Client{
		"created key": client.New(second.URL, client.WithAPIKey(key.Key)),
		"tenant key":  client.New(second.URL, client.WithAPIKey(acct.Key)),
	} {
		if _, err := c.ListStreams(ctx); err != nil {
			t.Errorf("%s after restart: %v", name, err)
		}
	}
	after := subscribe(t, second.anon(), stream)
	if err := after.RequestHistory(ctx, w.Key); err != nil {
		t.Fatalf("widget key after restart: %v", err)
	}
	if got := historyTexts(t, after); got != "m0,m1,m2" {
		t.Fatalf("history after restart %q; want m0,m1,m2", got)
	}
	// Ids continue rather than restart.
	st2, err := second.admin().CreateStream(ctx, client.CreateStreamParams{Name: "next"})
	if err != nil || st2.ID <= stream {
		t.Fatalf("new stream %+v, %v; want an id after %d", st2, err, stream)
	}
}

// historyTexts requests the history and returns the message_text values.
func historyTexts(t *testing.T, sub *client.Subscription) string {
	t.Helper()
	reply := next(t, sub, "history", ofType("request"))
	var items []client.Envelope
	if err := json.Unmarshal(reply.Message, &items); err != nil {
		t.Fatalf("history %s: %v", reply.Message, err)
	}
	var out []string
	for _, it := range items {
		out = append(out, messageText(it))
	}
	return strings.Join(out, ",")
}

// buildBinary builds cmd/tidings once per test binary run.
var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "tidings-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "tidings")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/tidings").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// proc is `tidings serve` running as a child process.
type proc struct {
	cmd *exec.Cmd
	URL string
}

func startProc(t *testing.T, dir string, extra ...string) *proc {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data", dir, "--log-level", "warn"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TIDINGS_API_KEY="+adminKey)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd}
	t.Cleanup(func() { p.kill() })
	lines := bufio.NewScanner(stdout)
	found := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if _, url, ok := strings.Cut(lines.Text(), "listening on "); ok {
				found <- strings.TrimSpace(url)
			}
		}
	}()
	select {
	case p.URL = <-found:
	case <-time.After(30 * time.Second):
		t.Fatal("tidings serve did not print its URL within 30s")
	}
	waitHealthy(t, p.URL)
	return p
}

// kill sends SIGKILL: no shutdown code runs, nothing is flushed by us.
func (p *proc) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}
}

// TestKill9KeepsAcknowledged kills the server with SIGKILL while a publisher
// is sending; every broadcast answered 200 must be in history after a
// restart, in order. Several trials, killing at different moments.
func TestKill9KeepsAcknowledged(t *testing.T) {
	const trials = 5
	dir := t.TempDir()
	ctx := context.Background()
	// History large enough that the limit never hides a message here.
	p := startProc(t, dir, "--history-max", "1000000")
	stream, w := liveStream(t, client.New(p.URL, client.WithAPIKey(adminKey)))
	var acked []string
	var seen []string // what a reader that resumes after each crash has received
	var readerLast, readerUser string
	for trial := range trials {
		sub := subscribe(t, client.New(p.URL), stream)
		reader := subscribe(t, client.New(p.URL), stream, client.WithLastEventID(readerLast))
		if readerUser == "" {
			readerUser = reader.UserID()
		}
		readerDone := make(chan struct{})
		go func() {
			defer close(readerDone)
			for {
				env, err := reader.Next(ctx)
				if err != nil {
					return
				}
				if env.ID != "" {
					readerLast = env.ID
				}
				if env.Type == client.TypeBroadcast {
					seen = append(seen, messageText(env))
				}
			}
		}()
		var mu sync.Mutex
		before := len(acked)
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				msg := fmt.Sprintf("t%d-%d", trial, i)
				if err := sub.Broadcast(ctx, w.Key, text(msg)); err != nil {
					return // the server is gone; this one was not acknowledged
				}
				mu.Lock()
				acked = append(acked, msg)
				mu.Unlock()
			}
		}()
		time.Sleep(time.Duration(200+trial*150) * time.Millisecond)
		p.kill()
		close(stop)
		<-done
		<-readerDone
		sub.Close()
		reader.Close()
		// The publisher has stopped (done), so acked is settled.
		if len(acked) == before {
			t.Fatalf("trial %d: no broadcast was acknowledged before the kill; the trial proved nothing", trial)
		}
		p = startProc(t, dir, "--history-max", "1000000")
		check := subscribe(t, client.New(p.URL), stream)
		if err := check.RequestHistory(ctx, w.Key); err != nil {
			t.Fatal(err)
		}
		got := historyTexts(t, check)
		stored := strings.Split(got, ",")
		// A publish whose answer was lost in the kill may be stored
		// without having been acknowledged; everything acknowledged must
		// be there, in order, and at most that one more.
		if len(stored) < len(acked) || fmt.Sprint(stored[:len(acked)]) != fmt.Sprint(acked) {
			t.Fatalf("trial %d: %d acknowledged; history (%d) does not start with them in order\n got %.300s\nwant %.300s", trial, len(acked), len(stored), got, strings.Join(acked, ","))
		}
		if extra := stored[len(acked):]; len(extra) > 1 {
			t.Fatalf("trial %d: more than one unacknowledged message in history: %q", trial, extra)
		}
		t.Logf("trial %d: %d broadcasts acknowledged before kill -9", trial, len(acked)-before)
		acked = stored // an unacknowledged but stored one counts from now on
		check.Close()

		// The reader resumes from its last id on the restarted server and
		// ends up with exactly the history.
		f := &follower{c: client.New(p.URL), stream: stream, userID: readerUser}
		if err := f.resumeFrom(ctx, readerLast, len(acked)-len(seen)); err != nil {
			t.Fatalf("trial %d: resume after kill -9: %v", trial, err)
		}
		for _, e := range f.content {
			seen = append(seen, messageText(e))
		}
		if strings.Join(seen, ",") != got {
			t.Fatalf("trial %d: resumed reader has %d messages, history %d; they differ", trial, len(seen), len(acked))
		}
		if f.lastID != "" {
			readerLast = f.lastID
		}
		t.Logf("trial %d: %d messages in history after kill -9; the resumed reader has exactly those", trial, len(acked))
	}
}

// TestGracefulDrain sends SIGTERM to a running server: subscribers are told
// to reconnect and their streams close; while the drain waits for a publish
// in flight, new connections are refused; that publish is still answered
// and kept; the process exits promptly; after a restart the subscriber
// resumes without losing anything.
func TestGracefulDrain(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	p := startProc(t, dir)
	stream, w := liveStream(t, client.New(p.URL, client.WithAPIKey(adminKey)))
	sub := subscribe(t, client.New(p.URL), stream)
	if err := sub.Broadcast(ctx, w.Key, text("before")); err != nil {
		t.Fatal(err)
	}
	nextContent(t, sub)
	last := sub.LastEventID()
	token := sub.Token()
	// A publish whose body has not arrived yet when SIGTERM comes: the
	// drain waits for it, so the server is still running, and draining,
	// while the test knocks.
	inflight, body := startSlowPublish(t, p.URL, stream, token, fmt.Sprintf(`{"type":"broadcast","widget_key":%q,"message":{"message_text":"during"}}`, w.Key))

	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	next(t, sub, "reconnect notice", func(e client.Envelope) bool {
		var m struct{ Event string }
		return e.Type == "system" && json.Unmarshal(e.Message, &m) == nil && m.Event == "reconnect"
	})
	if _, err := sub.Next(ctx); err == nil {
		t.Fatal("the stream went on after the reconnect notice; want it closed")
	}

	// The listener is closed at the start of the drain: new subscribes and
	// publishes are refused at connect, on fresh connections.
	host := strings.TrimPrefix(p.URL, "http://")
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.DialTimeout("tcp", host, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections 5s into the drain")
		}
		time.Sleep(10 * time.Millisecond)
	}
	fresh := client.New(p.URL, client.WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}))
	if _, err := fresh.Subscribe(ctx, stream); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("subscribe during the drain: %v; want connection refused", err)
	}
	err := fresh.Publish(ctx, stream, token, client.Envelope{Type: "broadcast", WidgetKey: w.Key, Message: json.RawMessage(`{"message_text":"refused"}`)})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("publish during the drain: %v; want connection refused", err)
	}
	select {
	case err := <-exited:
		t.Fatalf("server exited (%v) with a publish in flight; want the drain to wait for it", err)
	default:
	}

	// The publish in flight is answered, and kept.
	status, answer := finishSlowPublish(t, inflight, body)
	if status != http.StatusOK {
		t.Fatalf("publish in flight during the drain: %d %s; want 200", status, answer)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("server exited with %v; want a clean exit", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not exit within 15s of SIGTERM")
	}
	t.Logf("drained and exited in %v", time.Since(start).Round(time.Millisecond))

	p = startProc(t, dir)
	if err := client.New(p.URL).Publish(ctx, stream, token, client.Envelope{Type: "broadcast", WidgetKey: w.Key, Message: json.RawMessage(`{"message_text":"after"}`)}); err != nil {
		t.Fatalf("publish with the old token after restart: %v", err)
	}
	resumed := subscribe(t, client.New(p.URL), stream, client.WithLastEventID(last))
	for _, want := range []string{"during", "after"} {
		if got := nextContent(t, resumed); messageText(got) != want || got.AuthorID != sub.UserID() {
			t.Fatalf("after restart got %q by %s; want %q by the same user", messageText(got), got.AuthorID, want)
		}
	}
	if _, ok := resumed.Init(); ok {
		t.Fatal("resume after restart sent a new init")
	}
}

// startSlowPublish sends a publish's request line and headers but not its
// body, and returns once the handler is waiting for the body (the server
// answered "100 Continue").
func startSlowPublish(t *testing.T, base string, stream int64, token, body string) (net.Conn, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /publish/%d?token=%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", stream, token, len(body))
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("slow publish: got %q, %v; want 100 Continue", line, err)
	}
	if blank, err := r.ReadString('\n'); err != nil || blank != "\r\n" {
		t.Fatalf("slow publish: after 100 Continue got %q, %v", blank, err)
	}
	return conn, body
}

// finishSlowPublish sends the body and returns the answer's status and body.
func finishSlowPublish(t *testing.T, conn net.Conn, body string) (int, string) {
	t.Helper()
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatalf("slow publish: sending the body: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("slow publish: reading the answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
