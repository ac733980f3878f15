// Package presence owns viewer counts: how many subscribers a stream has
// across every node, and the coalesced "system" announcements of changes.
//
// Each node publishes its local count of a stream when it changes (at most
// once per interval) and all its non-zero counts on every heartbeat, over an
// unstored signal subject. Every node sums the latest count of each live node;
// a node silent for longer than the expiry is dropped, so a dead node's
// viewers disappear from the total. A change is announced at most once per
// interval per stream, so a join storm of N viewers costs O(N) deliveries.
package presence

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Signaler is the unstored publish/subscribe the tracker talks over.
type Signaler interface {
	Signal(name string, data []byte) error
	OnSignal(ctx context.Context, pattern string, fn func(name string, data []byte)) error
}

// Config holds the Tracker's dependencies and timings.
type Config struct {
	Node     string
	Signals  Signaler
	Local    func(stream int64) int          // this node's current count
	Streams  func() map[int64]int            // this node's non-empty streams
	Announce func(stream int64, viewers int) // called from Run's goroutine
	Interval time.Duration                   // coalescing window (default 200ms)
	Beat     time.Duration                   // heartbeat (default 2s)
	Expiry   time.Duration                   // drop silent nodes (default 3 beats)
	Logger   *slog.Logger
}

// Tracker keeps cluster-wide counts.
type Tracker struct {
	cfg Config

	mu        sync.Mutex
	remote    map[int64]map[string]remoteCount // stream → node → count
	dirty     map[int64]bool                   // local count changed, not yet published
	announced map[int64]int                    // last total announced
	check     map[int64]bool                   // total may have changed
}

type remoteCount struct {
	n    int
	seen time.Time
}

// New returns a Tracker; call Run to start it.
func New(cfg Config) *Tracker {
	if cfg.Interval <= 0 {
		cfg.Interval = 200 * time.Millisecond
	}
	if cfg.Beat <= 0 {
		cfg.Beat = 2 * time.Second
	}
	if cfg.Expiry <= 0 {
		cfg.Expiry = 3 * cfg.Beat
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Tracker{cfg: cfg, remote: map[int64]map[string]remoteCount{}, dirty: map[int64]bool{}, announced: map[int64]int{}, check: map[int64]bool{}}
}

// Changed records that stream's local count changed.
func (t *Tracker) Changed(stream int64) {
	t.mu.Lock()
	t.dirty[stream] = true
	t.check[stream] = true
	t.mu.Unlock()
}

// Total is stream's viewer count across the cluster, as known now.
func (t *Tracker) Total(stream int64) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.totalLocked(stream)
}

func (t *Tracker) totalLocked(stream int64) int {
	n := t.cfg.Local(stream)
	for _, c := range t.remote[stream] {
		n += c.n
	}
	return n
}

// Run subscribes to other nodes' counts and publishes and announces until ctx
// is done. It returns once subscribed; the work continues in a goroutine
// that ends with ctx.
func (t *Tracker) Run(ctx context.Context) error {
	err := t.cfg.Signals.OnSignal(ctx, "presence.>", t.receive)
	if err != nil {
		return err
	}
	go t.loop(ctx)
	return nil
}

func (t *Tracker) receive(name string, data []byte) {
	stream, err := strconv.ParseInt(strings.TrimPrefix(name, "presence."), 10, 64)
	if err != nil {
		return
	}
	node, count, ok := strings.Cut(string(data), " ")
	if !ok || node == t.cfg.Node {
		return
	}
	n, err := strconv.Atoi(count)
	if err != nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.remote[stream]
	if m == nil {
		m = map[string]remoteCount{}
		t.remote[stream] = m
	}
	if n == 0 {
		delete(m, node)
		if len(m) == 0 {
			delete(t.remote, stream)
		}
	} else {
		m[node] = remoteCount{n: n, seen: time.Now()}
	}
	t.check[stream] = true
}

func (t *Tracker) loop(ctx context.Context) {
	tick := time.NewTicker(t.cfg.Interval)
	defer tick.Stop()
	beat := time.NewTicker(t.cfg.Beat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t.flush()
		case <-beat.C:
			t.heartbeat()
		}
	}
}

func (t *Tracker) publish(stream int64, n int) {
	msg := t.cfg.Node + " " + strconv.Itoa(n)
	if err := t.cfg.Signals.Signal("presence."+strconv.FormatInt(stream, 10), []byte(msg)); err != nil {
		t.cfg.Logger.Warn("presence: publish", "stream", stream, "err", err)
	}
}

// flush publishes changed local counts and announces changed totals.
func (t *Tracker) flush() {
	t.mu.Lock()
	dirty := t.dirty
	t.dirty = map[int64]bool{}
	var announce []struct {
		stream int64
		n      int
	}
	for s := range t.check {
		n := t.totalLocked(s)
		if prev, ok := t.announced[s]; !ok || prev != n {
			announce = append(announce, struct {
				stream int64
				n      int
			}{s, n})
		}
		if n == 0 {
			delete(t.announced, s)
		} else {
			t.announced[s] = n
		}
	}
	t.check = map[int64]bool{}
	t.mu.Unlock()
	for s := range dirty {
		t.publish(s, t.cfg.Local(s))
	}
	for _, a := range announce {
		t.cfg.Announce(a.stream, a.n)
	}
}

// heartbeat republishes local counts and forgets nodes that went silent.
func (t *Tracker) heartbeat() {
	for s, n := range t.cfg.Streams() {
		t.publish(s, n)
	}
	cutoff := time.Now().Add(-t.cfg.Expiry)
	t.mu.Lock()
	for s, m := range t.remote {
		for node, c := range m {
			if c.seen.Before(cutoff) {
				delete(m, node)
				t.check[s] = true
			}
		}
		if len(m) == 0 {
			delete(t.remote, s)
		}
	}
	t.mu.Unlock()
}
