package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
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
		p = startProc(t, dir, "--history-max", "1000000")
		mu.Lock()
		want := strings.Join(acked, ",")
		mu.Unlock()
		check := subscribe(t, client.New(p.URL), stream)
		if err := check.RequestHistory(ctx, w.Key); err != nil {
			t.Fatal(err)
		}
		got := historyTexts(t, check)
		// A publish whose answer was lost in the kill may be stored
		// without having been acknowledged; everything acknowledged must
		// be there, in order.
		if !strings.HasPrefix(got, want) {
			t.Fatalf("trial %d: %d acknowledged; history does not start with them in order\n got %.300s\nwant %.300s", trial, len(acked), got, want)
		}
		if extra := strings.TrimPrefix(got, want); strings.Count(extra, ",") > 1 {
			t.Fatalf("trial %d: more than one unacknowledged message in history: %q", trial, extra)
		}
		acked = strings.Split(got, ",") // an unacknowledged but stored one counts from now on
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
// to reconnect and their streams close, the process exits promptly, and
// after a restart they resume without losing anything.
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

	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	notice := next(t, sub, "reconnect notice", func(e client.Envelope) bool {
		var m struct{ Event string }
		return e.Type == "system" && json.Unmarshal(e.Message, &m) == nil && m.Event == "reconnect"
	})
	_ = notice
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
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
	if got := nextContent(t, resumed); messageText(got) != "after" || got.AuthorID != sub.UserID() {
		t.Fatalf("after restart got %q by %s; want the missed message by the same user", messageText(got), got.AuthorID)
	}
	if _, ok := resumed.Init(); ok {
		t.Fatal("resume after restart sent a new init")
	}
}
