package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// Cache mirrors a bucket of JSON records in memory, kept current by a watch.
// Reads never touch the engine; writes made through this node become visible
// here before the writer returns (see WaitRevision).
type Cache[T any] struct {
	mu       sync.RWMutex
	items    map[string]T
	revision uint64
	changed  chan struct{} // closed and replaced on every applied revision
	onChange []func(key string, old, cur *T)
	sync     func(ctx context.Context, rev uint64) error
}

// NewCache returns an empty cache; call Run to fill it.
func NewCache[T any]() *Cache[T] {
	return &Cache[T]{items: make(map[string]T), changed: make(chan struct{})}
}

// OnChange registers fn to be called (from the watch goroutine) after each
// change, before the change's revision counts as applied (WaitRevision).
// old or cur is nil for creations and deletions. Register before Run.
func (c *Cache[T]) OnChange(fn func(key string, old, cur *T)) {
	c.onChange = append(c.onChange, fn)
}

// SetSync sets how Settle makes sure every node has applied a revision
// (for example an engine barrier). Set it before use.
func (c *Cache[T]) SetSync(fn func(ctx context.Context, rev uint64) error) { c.sync = fn }

// Settle returns once rev is applied here and, with a sync function, on
// every node: a write is then in force cluster-wide when the writer answers.
func (c *Cache[T]) Settle(ctx context.Context, rev uint64) error {
	if err := c.WaitRevision(ctx, rev); err != nil {
		return err
	}
	if c.sync != nil {
		return c.sync(ctx, rev)
	}
	return nil
}

// Run starts watching b and returns once the cache holds every current entry.
// The watch stops when ctx is done.
func (c *Cache[T]) Run(ctx context.Context, b Bucket) error {
	ready := make(chan struct{})
	var once sync.Once
	err := b.Watch(ctx, c.apply, func() { once.Do(func() { close(ready) }) })
	if err != nil {
		return err
	}
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Cache[T]) apply(e Entry) {
	var cur *T
	if !e.Deleted {
		var v T
		if err := json.Unmarshal(e.Value, &v); err != nil {
			// A record we cannot read is treated as absent rather than
			// crashing every node; writers only store our own encoding.
			e.Deleted = true
		} else {
			cur = &v
		}
	}
	c.mu.Lock()
	var old *T
	if o, ok := c.items[e.Key]; ok {
		old = &o
	}
	if cur != nil {
		c.items[e.Key] = *cur
	} else {
		delete(c.items, e.Key)
	}
	c.mu.Unlock()
	for _, fn := range c.onChange {
		fn(e.Key, old, cur)
	}
	// The revision is published only now, after the callbacks: whoever
	// waits for it (WaitRevision, Settle) must find the indexes they keep
	// (a widget's key, say) up to date too.
	c.mu.Lock()
	if e.Revision > c.revision {
		c.revision = e.Revision
	}
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// Get returns the cached record for key.
func (c *Cache[T]) Get(key string) (T, bool) {
	c.mu.RLock()
	v, ok := c.items[key]
	c.mu.RUnlock()
	return v, ok
}

// All returns a snapshot of every cached record.
func (c *Cache[T]) All() []T {
	c.mu.RLock()
	out := make([]T, 0, len(c.items))
	for _, v := range c.items {
		out = append(out, v)
	}
	c.mu.RUnlock()
	return out
}

// Revision is the highest bucket revision applied.
func (c *Cache[T]) Revision() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.revision
}

// WaitRevision blocks until the cache has applied rev, so a node reads its
// own writes.
func (c *Cache[T]) WaitRevision(ctx context.Context, rev uint64) error {
	for {
		c.mu.RLock()
		done, ch := c.revision >= rev, c.changed
		c.mu.RUnlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("store: waiting for revision %d: %w", rev, ctx.Err())
		}
	}
}
