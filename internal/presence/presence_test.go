package presence_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/engine"
	"github.com/tidings/tidings/internal/presence"
)

// node is one tracker with a local count the test sets.
type node struct {
	mu        sync.Mutex
	local     map[int64]int
	announced []int
	tr        *presence.Tracker
}

func (n *node) set(stream int64, count int) {
	n.mu.Lock()
	n.local[stream] = count
	n.mu.Unlock()
	n.tr.Changed(stream)
}

func (n *node) last() (int, int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.announced) == 0 {
		return -1, 0
	}
	return n.announced[len(n.announced)-1], len(n.announced)
}

func newNode(ctx context.Context, t *testing.T, name string, e *engine.Engine) *node {
	n := &node{local: map[int64]int{}}
	n.tr = presence.New(presence.Config{
		Node: name, Signals: e,
		Local: func(s int64) int { n.mu.Lock(); defer n.mu.Unlock(); return n.local[s] },
		Streams: func() map[int64]int {
			n.mu.Lock()
			defer n.mu.Unlock()
			out := map[int64]int{}
			for s, c := range n.local {
				if c > 0 {
					out[s] = c
				}
			}
			return out
		},
		Announce: func(_ int64, v int) { n.mu.Lock(); n.announced = append(n.announced, v); n.mu.Unlock() },
		Interval: 20 * time.Millisecond,
		Beat:     50 * time.Millisecond,
	})
	if err := n.tr.Run(ctx); err != nil {
		t.Fatal(err)
	}
	return n
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCountsAreSummedAcrossNodesAndCoalesced(t *testing.T) {
	e, err := engine.Open(context.Background(), engine.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := newNode(ctx, t, "a", e)
	bctx, stopB := context.WithCancel(ctx)
	b := newNode(bctx, t, "b", e)

	// A join storm on a: 100 changes, a handful of announcements.
	for i := 1; i <= 100; i++ {
		a.set(7, i)
	}
	b.set(7, 5)
	eventually(t, "both nodes announce 105", func() bool {
		la, _ := a.last()
		lb, _ := b.last()
		return la == 105 && lb == 105 && a.tr.Total(7) == 105
	})
	if _, n := a.last(); n > 10 {
		t.Fatalf("%d announcements for a 100-join storm; want them coalesced", n)
	}

	// b dies without a goodbye: its viewers leave the total after expiry.
	stopB()
	eventually(t, "b's viewers expire on a", func() bool { la, _ := a.last(); return la == 100 })

	// A node that leaves cleanly publishes zero.
	a.set(7, 0)
	eventually(t, "zero viewers", func() bool { return a.tr.Total(7) == 0 })
}
