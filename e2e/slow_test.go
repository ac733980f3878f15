package e2e

import (
	"context"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidings/tidings/client"
	"github.com/tidings/tidings/internal/server"
)

// stuckReader opens a subscription over raw TCP with a tiny receive buffer
// and never reads from it.
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

func TestSlowConsumerIsCutOffOthersComplete(t *testing.T) {
	const others, messages = 1000, 200
	const queueEvents, queueBytes = 64, 256 << 10
	n := startNode(t, server.Config{QueueSize: queueEvents, QueueBytes: queueBytes, WriteTimeout: 2 * time.Second})
	stream, w := liveStream(t, n.admin())
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	hub := n.srv.Channel().Hub()

	stuckReader(t, n.URL, stream)
	wait := followAll(ctx, n.URL, stream, others, messages)

	// The publisher's token outlives its subscription, which it closes so
	// that it is not a reader that never reads.
	pub := subscribe(t, n.anon(), stream)
	pub.Close()
	payload := strings.Repeat("x", 2000)
	maxBytes := 0
	for i := 0; i < messages; i++ {
		msg := fmt.Sprintf(`{"n":%d,"pad":%q}`, i, payload)
		if err := n.anon().Publish(ctx, stream, pub.Token(), client.Envelope{Type: "broadcast", WidgetKey: w.Key, Message: []byte(msg)}); err != nil {
			t.Fatal(err)
		}
		_, b := hub.QueueStats()
		maxBytes = max(maxBytes, b)
		time.Sleep(5 * time.Millisecond) // sustained, not a single burst
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
	t.Logf("%d readers got all %d messages; stuck reader cut off; largest queue %d bytes (bound %d); %d reader reconnects",
		others, messages, maxBytes, queueBytes, resumed)
}
