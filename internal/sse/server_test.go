package sse

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/hub"
)

// pair returns the server and client ends of a loopback TCP connection.
func pair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-acc
	t.Cleanup(func() { client.Close(); server.Close() })
	return server, client
}

func readUntil(t *testing.T, r *bufio.Reader, want string) string {
	t.Helper()
	var got strings.Builder
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(got.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("read %q; want it to contain %q", got.String(), want)
		}
		line, err := r.ReadString('\n')
		got.WriteString(line)
		if err != nil {
			t.Fatalf("read %q then %v; want %q", got.String(), err, want)
		}
	}
	return got.String()
}

func TestEventsHeartbeatsAndClose(t *testing.T) {
	s := New(Config{Heartbeat: 80 * time.Millisecond})
	defer closeNow(s)
	h := hub.New(0)
	sc, cc := pair(t)
	sub := hub.NewSubscriber(1, "u", "P-", hub.Limits{})
	h.Join(sub)
	var closed atomic.Int32
	s.Attach(sc, sub, []byte("HEAD\n"), func() { closed.Add(1); h.Leave(sub) })
	r := bufio.NewReader(cc)

	h.Deliver(1, "", hub.NewEvent(7, []byte(`"a"`)))
	h.Deliver(1, "", hub.NewEvent(8, []byte(`"b"`)))
	got := readUntil(t, r, `data: "b"`)
	if want := "HEAD\nid: P-7\ndata: \"a\"\n\nid: P-8\ndata: \"b\"\n"; got != want {
		t.Fatalf("got %q; want %q", got, want)
	}
	readUntil(t, r, ":\n") // idle: a heartbeat comment
	cc.Close()
	deadline := time.Now().Add(5 * time.Second)
	for closed.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if closed.Load() != 1 || s.Len() != 0 {
		t.Fatalf("onClose ran %d times, %d conns left; want 1 and 0 after the client hung up", closed.Load(), s.Len())
	}
}

func TestServerCloseFlushesFinalEvent(t *testing.T) {
	s := New(Config{})
	h := hub.New(0)
	sc, cc := pair(t)
	sub := hub.NewSubscriber(1, "u", "", hub.Limits{})
	h.Join(sub)
	s.Attach(sc, sub, nil, func() {})
	sub.Close(hub.ReasonEnded, hub.NewNotice([]byte(`"bye"`)))
	got, err := io.ReadAll(cc) // ends when the server closes the connection
	if err != nil || string(got) != "data: \"bye\"\n\n" {
		t.Fatalf("read %q, %v; want the notice then EOF", got, err)
	}
	s.Close(context.Background())
}

// A client that reads nothing fills its socket; delivery to another client
// goes on, and the stuck one is closed as slow after the write timeout.
func TestStuckClientDoesNotBlockOthers(t *testing.T) {
	s := New(Config{WriteTimeout: 300 * time.Millisecond, Workers: 1})
	defer closeNow(s)
	h := hub.New(0)
	stuckS, _ := pair(t)
	okS, okC := pair(t)
	stuck := hub.NewSubscriber(1, "stuck", "", hub.Limits{Events: 1 << 20, Bytes: 1 << 30})
	fine := hub.NewSubscriber(1, "fine", "", hub.Limits{Events: 1 << 20, Bytes: 1 << 30})
	h.Join(stuck)
	h.Join(fine)
	stuckClosed := make(chan struct{})
	s.Attach(stuckS, stuck, nil, func() { close(stuckClosed) })
	s.Attach(okS, fine, nil, func() {})
	big := `"` + strings.Repeat("x", 64<<10) + `"`
	go io.Copy(io.Discard, okC)
	for i := uint64(1); i <= 200; i++ { // ~13 MB: far more than socket buffers
		h.Deliver(1, "", hub.NewEvent(i, []byte(big)))
		time.Sleep(time.Millisecond)
	}
	select {
	case <-stuckClosed:
	case <-time.After(5 * time.Second):
		t.Fatal("stuck client was not closed")
	}
	if c, reason := stuck.Closed(); !c || reason != hub.ReasonSlow {
		t.Fatalf("stuck subscriber closed=%v reason=%q; want closed as slow", c, reason)
	}
	if c, _ := fine.Closed(); c {
		t.Fatal("the reading client was closed too")
	}
}

// closeNow closes s and any connection still attached.
func closeNow(s *Server) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.Close(ctx)
}
