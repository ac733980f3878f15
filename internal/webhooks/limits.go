package webhooks

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limits keeps one widget from taking more than its share of this node: a
// token bucket on webhook publishes, and a cap on its calls in flight so a
// receiver that never answers holds only that widget's slots.
type limits struct {
	rate        rate.Limit
	burst       int
	maxInFlight int

	mu      sync.Mutex
	widgets map[int64]*widgetLimits
}

type widgetLimits struct {
	bucket   *rate.Limiter
	inFlight int
}

// sweepAt is the map size past which idle entries are dropped.
const sweepAt = 10000

func newLimits(perSecond float64, maxInFlight int) *limits {
	return &limits{
		rate:        rate.Limit(perSecond),
		burst:       max(1, int(math.Ceil(perSecond))),
		maxInFlight: maxInFlight,
		widgets:     make(map[int64]*widgetLimits),
	}
}

func (l *limits) get(widget int64) *widgetLimits {
	w, ok := l.widgets[widget]
	if !ok {
		if len(l.widgets) >= sweepAt {
			l.sweep()
		}
		w = &widgetLimits{bucket: rate.NewLimiter(l.rate, l.burst)}
		l.widgets[widget] = w
	}
	return w
}

// sweep forgets widgets with nothing in flight and a full bucket: a new
// entry for them would be the same.
func (l *limits) sweep() {
	now := time.Now()
	for id, w := range l.widgets {
		if w.inFlight == 0 && w.bucket.TokensAt(now) >= float64(l.burst) {
			delete(l.widgets, id)
		}
	}
}

// allow takes a token for one webhook publish of widget; when none is
// left it reports how long until one is.
func (l *limits) allow(widget int64) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(widget).bucket
	r := b.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel() // do not spend a future token on a refused call
		return d, false
	}
	return 0, true
}

// acquire takes one of widget's in-flight slots, if one is free.
func (l *limits) acquire(widget int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.get(widget)
	if w.inFlight >= l.maxInFlight {
		return false
	}
	w.inFlight++
	return true
}

func (l *limits) release(widget int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w, ok := l.widgets[widget]; ok && w.inFlight > 0 {
		w.inFlight--
	}
}
