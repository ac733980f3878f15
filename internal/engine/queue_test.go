package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/store"
)

func openTestEngine(t *testing.T, dir string) *Engine {
	t.Helper()
	e, err := Open(context.Background(), Config{DataDir: dir, Name: "queue-test"})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return e
}

func openTestQueue(t *testing.T, e *Engine, maxItems int64) store.Queue {
	t.Helper()
	q, err := e.Queue(context.Background(), QueueConfig{Name: "TEST", Subject: "tq", AckWait: 2 * time.Second, MaxItems: maxItems})
	if err != nil {
		t.Fatalf("Queue: %v", err)
	}
	return q
}

// delivery is what a test consumer saw of one job.
type delivery struct {
	data      string
	delivered int
	at        time.Time
	job       store.Job
}

func consumeInto(t *testing.T, q store.Queue) (chan delivery, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan delivery, 100)
	if err := q.Consume(ctx, 4, func(j store.Job) {
		got <- delivery{string(j.Data()), j.Delivered(), time.Now(), j}
	}); err != nil {
		t.Fatalf("Consume: %v", err)
	}
	return got, cancel
}

func await(t *testing.T, got chan delivery, within time.Duration) delivery {
	t.Helper()
	select {
	case d := <-got:
		return d
	case <-time.After(within):
		t.Fatalf("no delivery within %v", within)
		return delivery{}
	}
}

func TestQueueDeliversRetriesAndDrops(t *testing.T) {
	e := openTestEngine(t, t.TempDir())
	defer e.Close()
	q := openTestQueue(t, e, 0)
	ctx := context.Background()
	got, stop := consumeInto(t, q)
	defer stop()

	for range 2 { // the second is a duplicate and is stored once
		if err := q.Enqueue(ctx, "a1", []byte("one")); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
	}
	d := await(t, got, 5*time.Second)
	if d.data != "one" || d.delivered != 1 {
		t.Fatalf("got %q delivered %d; want \"one\" delivered 1", d.data, d.delivered)
	}
	asked := time.Now()
	if err := d.job.Retry(300 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	d = await(t, got, 5*time.Second)
	if wait := d.at.Sub(asked); d.delivered != 2 || wait < 250*time.Millisecond {
		t.Fatalf("redelivered after %v as delivery %d; want ≥300ms, delivery 2", wait, d.delivered)
	}
	if err := d.job.Drop(); err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue(ctx, "a2", []byte("two")); err != nil {
		t.Fatal(err)
	}
	d = await(t, got, 5*time.Second)
	if d.data != "two" {
		t.Fatalf("after a drop got %q; want the next item", d.data)
	}
	if err := d.job.Ack(); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-got:
		t.Fatalf("unexpected delivery %q (%d)", d.data, d.delivered)
	case <-time.After(2500 * time.Millisecond): // past the ack wait
	}
}

func TestQueueRedeliversUnackedAfterAckWait(t *testing.T) {
	e := openTestEngine(t, t.TempDir())
	defer e.Close()
	q := openTestQueue(t, e, 0)
	got, stop := consumeInto(t, q)
	defer stop()
	if err := q.Enqueue(context.Background(), "lost", []byte("x")); err != nil {
		t.Fatal(err)
	}
	first := await(t, got, 5*time.Second)
	// The consumer "dies": no ack.
	again := await(t, got, 5*time.Second)
	if again.delivered != 2 || again.at.Sub(first.at) < 1500*time.Millisecond {
		t.Fatalf("redelivery %d after %v; want delivery 2 after the 2s ack wait", again.delivered, again.at.Sub(first.at))
	}
	_ = again.job.Ack()
}

func TestQueueSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	e := openTestEngine(t, dir)
	q := openTestQueue(t, e, 0)
	got, stop := consumeInto(t, q)
	if err := q.Enqueue(context.Background(), "r1", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	d := await(t, got, 5*time.Second)
	_ = d.job.Retry(time.Second)
	stop()
	e.Close()

	e = openTestEngine(t, dir)
	defer e.Close()
	q = openTestQueue(t, e, 0)
	start := time.Now()
	got, stop = consumeInto(t, q)
	defer stop()
	d = await(t, got, 10*time.Second)
	if d.data != "kept" {
		t.Fatalf("after restart got %q", d.data)
	}
	t.Logf("redelivered %v after restart (delivery %d)", time.Since(start), d.delivered)
	_ = d.job.Ack()
}

func TestQueueFullAndDeadLetters(t *testing.T) {
	e := openTestEngine(t, t.TempDir())
	defer e.Close()
	q := openTestQueue(t, e, 3)
	ctx := context.Background()
	for i := range 3 {
		if err := q.Enqueue(ctx, fmt.Sprint("f", i), []byte("x")); err != nil {
			t.Fatalf("Enqueue %d: %v", i, err)
		}
	}
	if err := q.Enqueue(ctx, "f3", []byte("x")); !errors.Is(err, store.ErrFull) {
		t.Fatalf("Enqueue on a full queue: %v; want store.ErrFull", err)
	}
	if _, err := q.Buried(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Buried(unknown): %v; want ErrNotFound", err)
	}
	if err := q.Bury(ctx, "wh_dead", []byte(`{"why":"gave up"}`)); err != nil {
		t.Fatal(err)
	}
	b, err := q.Buried(ctx, "wh_dead")
	if err != nil || string(b) != `{"why":"gave up"}` {
		t.Fatalf("Buried = %q, %v", b, err)
	}
	if err := q.Enqueue(ctx, "bad id!", nil); err == nil {
		t.Fatal("Enqueue accepted an id that is not subject-safe")
	}
}

// A consumer that stops hands back the items it had fetched but not yet
// started, so another consumer (another node) gets them at once, not after
// their ack wait.
func TestQueueHandsBackPrefetchedOnStop(t *testing.T) {
	e := openTestEngine(t, t.TempDir())
	defer e.Close()
	ctx := context.Background()
	q, err := e.Queue(ctx, QueueConfig{Name: "HANDBACK", Subject: "thb", AckWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if err := q.Enqueue(ctx, fmt.Sprintf("h%d", i), []byte{byte('0' + i)}); err != nil {
			t.Fatal(err)
		}
	}
	// Consumer A takes the first item and sits on it: the rest wait in its
	// prefetch buffer.
	actx, stopA := context.WithCancel(ctx)
	started, release := make(chan string, 4), make(chan struct{})
	if err := q.Consume(actx, 4, func(j store.Job) {
		started <- string(j.Data())
		<-release
	}); err != nil {
		t.Fatal(err)
	}
	first := <-started
	stopA()
	close(release)

	got, stopB := consumeInto(t, q)
	defer stopB()
	seen := map[string]bool{first: true}
	for len(seen) < 4 {
		d := await(t, got, 10*time.Second) // the ack wait is a minute
		if !seen[d.data] {
			seen[d.data] = true
			_ = d.job.Ack()
		}
	}
}
