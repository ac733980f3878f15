package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidings/tidings/client"
	"github.com/tidings/tidings/internal/server"
)

// stuckReader opens a subscription over raw TCP with a tiny receive buffer
// and does not read from it until the test reads what is in it.
func stuckReader(t *testing.T, base string, stream int64) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET /subscribe/%d HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n", stream)
	return conn
}

// readToEOF reads conn until the server closes it, and returns the data
// events (the JSON after "data: ") in the order they came.
func readToEOF(t *testing.T, conn net.Conn, within time.Duration) []string {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(within))
	all, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("reading the stuck subscriber's socket: %v (after %d bytes); want the server to close it", err, len(all))
	}
	var events []string
	for _, line := range strings.Split(string(all), "\n") {
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			events = append(events, data)
		}
	}
	return events
}

func TestSlowConsumerIsCutOffOthersComplete(t *testing.T) {
	const others, messages = 1000, 200
	const queueEvents, queueBytes = 64, 256 << 10
	// The write timeout outlasts the test: the stuck reader is cut off
	// because its queue overflows, not because a write timed out, and its
	// connection stays open until it reads again.
	n := startNode(t, server.Config{QueueSize: queueEvents, QueueBytes: queueBytes, WriteTimeout: 5 * time.Minute})
	stream, w := liveStream(t, n.admin())
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	hub := n.srv.Channel().Hub()

	wait := followAll(ctx, n.URL, stream, others, messages)
	// Only now, so that what fills its buffers is the broadcasts, not the
	// viewer counts of 1,000 joins: it reads again soon after it is cut
	// off. A socket the server closed with unsent bytes waits on TCP's
	// zero-window probes, which back off to tens of seconds.
	stuck := stuckReader(t, n.URL, stream)
	for hub.Local(stream) < others+1 {
		if ctx.Err() != nil {
			t.Fatalf("%d of %d subscribers joined", hub.Local(stream), others+1)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// The publisher's token outlives its subscription, which it closes so
	// that it is not a reader that never reads.
	pub := subscribe(t, n.anon(), stream)
	pub.Close()
	payload := strings.Repeat("x", 2000)
	maxBytes := 0
	from := hub.TailSeq()
	for i := 0; i < messages; i++ {
		msg := fmt.Sprintf(`{"n":%d,"pad":%q}`, i, payload)
		if err := n.anon().Publish(ctx, stream, pub.Token(), client.Envelope{Type: "broadcast", WidgetKey: w.Key, Message: []byte(msg)}); err != nil {
			t.Fatal(err)
		}
		_, b := hub.QueueStats()
		maxBytes = max(maxBytes, b)
		time.Sleep(5 * time.Millisecond) // sustained, not a single burst
	}
	// Once the hub has handed every broadcast on, the stuck reader's queue
	// has overflowed: 200 events of 2 KB exceed both its bounds and its
	// socket buffers. It then reads what reached its socket: the server's
	// last words to it must say it was cut off as too slow.
	for hub.TailSeq() < from+messages {
		if ctx.Err() != nil {
			t.Fatalf("the hub got %d of %d broadcasts", hub.TailSeq()-from, messages)
		}
		time.Sleep(10 * time.Millisecond)
	}
	events := readToEOF(t, stuck, 60*time.Second)
	if len(events) == 0 {
		t.Fatal("the stuck subscriber received nothing")
	}
	var notice struct {
		Type    string
		Message struct{ Event, Reason string }
	}
	lastEvent := events[len(events)-1]
	if err := json.Unmarshal([]byte(lastEvent), &notice); err != nil || notice.Type != "system" ||
		notice.Message.Event != "disconnected" || !strings.HasPrefix(notice.Message.Reason, "slow consumer") {
		t.Fatalf("the stuck subscriber's last event before EOF is %.200s; want a system disconnected notice with the slow-consumer reason", lastEvent)
	}
	followers, errs := wait()
	resumed := 0
	for i, f := range followers {
		if errs[i] != nil {
			t.Fatalf("subscriber %d: %v", i, errs[i])
		}
		checkExactlyOnce(t, fmt.Sprint("subscriber ", i), f.content, client.TypeBroadcast, messages)
		resumed += f.resumes - 1
	}
	if maxBytes > queueBytes {
		t.Fatalf("a subscriber queue held %d bytes; the bound is %d", maxBytes, queueBytes)
	}
	// The readers have closed by now; the stuck reader must be gone too.
	deadline := time.Now().Add(10 * time.Second)
	for hub.Local(stream) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if l := hub.Local(stream); l != 0 {
		t.Fatalf("%d subscribers left; want the stuck reader disconnected", l)
	}
	if got := n.srv.Channel().Stats().SlowDisconnects; got < 1 {
		t.Fatalf("SlowDisconnects = %d; want the stuck reader cut off as too slow", got)
	}
	t.Logf("%d readers got all %d messages; stuck reader cut off after %d events, told %q; largest queue %d bytes (bound %d); %d reader reconnects",
		others, messages, len(events)-1, notice.Message.Reason, maxBytes, queueBytes, resumed)
}
