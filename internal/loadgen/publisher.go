//go:build linux

package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// publisher sends the tool's broadcasts: each carries a per-stream sequence
// number and its send time, so subscribers can account for it.
type publisher struct {
	tgt       target
	paths     []string // publish path (with token) per stream
	widgetKey string
	payload   int
	win       Window

	seq      []atomic.Uint64 // last sequence number used, per stream
	acked    []atomic.Int64  // acknowledged publishes, per stream
	inWindow atomic.Int64    // acknowledged publishes sent inside the window
	sent     atomic.Int64
	errors   atomic.Int64
	firstErr atomic.Pointer[string]
	latency  Histogram // request to acknowledgement, for publishes inside the window
}

func newPublisher(t target, f *fixture, payload int, win Window) *publisher {
	p := &publisher{
		tgt:       t,
		widgetKey: f.widgetKey,
		payload:   payload,
		win:       win,
		seq:       make([]atomic.Uint64, len(f.streams)),
		acked:     make([]atomic.Int64, len(f.streams)),
	}
	for i, id := range f.streams {
		p.paths = append(p.paths, "/publish/"+strconv.FormatInt(id, 10)+"?token="+f.tokens[i])
	}
	return p
}

// pubWorker is one publishing goroutine's connection and scratch buffer.
type pubWorker struct {
	conn pubConn
	body []byte
}

func (p *publisher) newWorker() *pubWorker {
	return &pubWorker{conn: pubConn{addr: p.tgt.addr, host: p.tgt.host}}
}

// publish sends one broadcast to stream i and waits for its answer.
func (p *publisher) publish(w *pubWorker, i int) {
	seq := p.seq[i].Add(1)
	t0 := time.Now()
	sent := t0.UnixNano()
	w.body = appendBroadcast(w.body[:0], p.widgetKey, seq, sent, p.payload)
	p.sent.Add(1)
	status, reply, err := w.conn.post(p.paths[i], w.body)
	if err == nil && status != 200 {
		err = fmt.Errorf("publish answered %d: %.200s", status, bytes.TrimSpace(reply))
	}
	if err != nil {
		p.errors.Add(1)
		msg := err.Error()
		p.firstErr.CompareAndSwap(nil, &msg)
		return
	}
	p.acked[i].Add(1)
	if sent >= p.win.Start && sent < p.win.End {
		p.inWindow.Add(1)
		p.latency.Record(int64(time.Since(t0)))
	}
}

// runRate publishes at r msg/s in total until the window ends. Each stream
// belongs to one goroutine, which waits for each acknowledgement before its
// next publish: a stream's sequence numbers then reach the server in order,
// so any reordering a subscriber sees is the server's.
func (p *publisher) runRate(ctx context.Context, r float64, goroutines int) {
	// New publishes stop at the window's end; those in flight finish
	// (bounded by the connection's deadline), so that every stored message
	// is also counted as acknowledged.
	wait, cancel := context.WithDeadline(ctx, time.Unix(0, p.win.End))
	defer cancel()
	// A burst of 200 ms lets a publisher catch up after a slow request.
	lim := rate.NewLimiter(rate.Limit(r), max(1, int(r/5)))
	n := len(p.paths)
	goroutines = min(goroutines, n)
	var wg sync.WaitGroup
	for g := range goroutines {
		owned := (n - g + goroutines - 1) / goroutines // streams g, g+G, g+2G …
		wg.Go(func() {
			w := p.newWorker()
			defer w.conn.close()
			for k := 0; lim.Wait(wait) == nil; k++ {
				p.publish(w, g+(k%owned)*goroutines)
			}
		})
	}
	wg.Wait()
}

// runMax publishes as fast as the server acknowledges, with c requests in
// flight, until the window ends. Several requests per stream are in flight
// at once, so out-of-order counts are not meaningful in this mode.
func (p *publisher) runMax(ctx context.Context, c int) {
	var wg sync.WaitGroup
	for g := range c {
		wg.Go(func() {
			w := p.newWorker()
			defer w.conn.close()
			for k := g; ctx.Err() == nil && time.Now().UnixNano() < p.win.End; k++ {
				p.publish(w, k%len(p.paths))
			}
		})
	}
	wg.Wait()
}

func (p *publisher) ackedCounts() []int64 {
	out := make([]int64, len(p.acked))
	for i := range p.acked {
		out[i] = p.acked[i].Load()
	}
	return out
}
