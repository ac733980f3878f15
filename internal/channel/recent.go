package channel

import (
	"sync"

	"github.com/tidings/tidings/internal/hub"
	"github.com/tidings/tidings/internal/store"
)

// recent keeps, per stream, the newest messages the tail delivered, as the
// events already encoded for the hub. A client that reconnects after a short
// drop, the common case, is replayed from here without reading the engine,
// so a reconnect storm of thousands costs memory copies, not engine reads.
// Older gaps fall back to the engine.
type recent struct {
	perStream int // messages kept per stream
	perBytes  int // and their bytes

	mu    sync.RWMutex
	start uint64 // the tail's starting point: it saw every message after it
	rings map[int64]*ring
}

type ring struct {
	// base is a sequence such that every message of the stream stored after
	// it is held here: the tail's start, then the newest one evicted.
	base  uint64
	items []recentItem // circular once full: the oldest at head
	head  int
	n     int
	bytes int
}

type recentItem struct {
	ev     *hub.Event
	toUser string // empty for a broadcast
}

func (g *ring) at(i int) *recentItem { return &g.items[(g.head+i)%len(g.items)] }

// evict drops the oldest item.
func (g *ring) evict() {
	it := g.at(0)
	g.bytes -= len(it.ev.JSON())
	g.base = it.ev.Seq
	*it = recentItem{}
	g.head = (g.head + 1) % len(g.items)
	g.n--
}

func newRecent(perStream, perBytes int) *recent {
	return &recent{perStream: perStream, perBytes: perBytes, rings: make(map[int64]*ring)}
}

// begin records where the tail starts, before any add.
func (c *recent) begin(after uint64) {
	c.mu.Lock()
	c.start = after
	c.mu.Unlock()
}

// add keeps one message; the tail calls it in log order, before the hub
// delivers it, so anything the hub has delivered is here.
func (c *recent) add(r store.Record, ev *hub.Event) {
	if c.perStream <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.rings[r.Stream]
	if g == nil {
		g = &ring{base: c.start}
		c.rings[r.Stream] = g
	}
	if g.n == c.perStream {
		g.evict()
	}
	if g.n == len(g.items) {
		// Grow (by doubling, up to perStream): quiet streams stay small.
		grown := make([]recentItem, min(max(2*len(g.items), 8), c.perStream))
		for i := range g.n {
			grown[i] = *g.at(i)
		}
		g.items, g.head = grown, 0
	}
	*g.at(g.n) = recentItem{ev: ev, toUser: r.ToUser}
	g.n++
	g.bytes += len(ev.JSON())
	for g.bytes > c.perBytes && g.n > 1 {
		g.evict()
	}
}

// since returns the stream's broadcasts and user's privates stored after
// `after`, up to and including upTo, oldest first; ok is false when some of
// them may not be held here (the caller then reads the engine).
func (c *recent) since(stream int64, user string, after, upTo uint64) (evs []*hub.Event, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	g := c.rings[stream]
	if g == nil {
		// No message of this stream since the tail started.
		return nil, c.perStream > 0 && c.start <= after
	}
	if g.base > after {
		return nil, false
	}
	for i := range g.n {
		it := g.at(i)
		seq := it.ev.Seq
		if seq <= after || seq > upTo {
			continue
		}
		if it.toUser == "" || it.toUser == user {
			evs = append(evs, it.ev)
		}
	}
	return evs, true
}

// forget drops an ended stream's messages.
func (c *recent) forget(stream int64) {
	c.mu.Lock()
	delete(c.rings, stream)
	c.mu.Unlock()
}
