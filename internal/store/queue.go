package store

import (
	"context"
	"errors"
	"time"
)

// ErrFull is returned by Queue.Enqueue when the queue holds as many items as
// it may; the caller should refuse the work rather than wait.
var ErrFull = errors.New("store: queue is full")

// Queue is a durable work queue shared by every node: an enqueued item is
// kept until a consumer acknowledges it, goes to one consumer at a time, and
// comes back (to any node) when that consumer neither acknowledges nor
// touches it within the queue's ack wait, as happens when a node dies. That
// makes processing at-least-once: consumers must tolerate repeats.
type Queue interface {
	// Enqueue stores data once it is durable. Items with the same id
	// within the engine's duplicate window are stored once, so a retried
	// Enqueue is safe. It returns ErrFull when the queue is at its bound.
	Enqueue(ctx context.Context, id string, data []byte) error
	// Consume calls fn with each item, from one goroutine, until ctx is
	// done. fn may block (that is how a consumer bounds its concurrency):
	// at most prefetch items wait, fetched, while it does. Consume returns
	// once consuming has started.
	Consume(ctx context.Context, prefetch int, fn func(Job)) error
	// Bury keeps data as the dead-letter record of id, for an operator to
	// inspect; it is not delivered again.
	Bury(ctx context.Context, id string, data []byte) error
	// Buried returns the dead-letter record of id, or ErrNotFound.
	Buried(ctx context.Context, id string) ([]byte, error)
}

// Job is one delivery of a queued item to a consumer. Exactly one of Ack,
// Retry or Drop should end it; Touch may be called any number of times
// before that.
type Job interface {
	// Data is the item as enqueued.
	Data() []byte
	// Delivered counts the deliveries of this item, this one included.
	Delivered() int
	// Ack removes the item from the queue: it is done.
	Ack() error
	// Retry hands the item back, to be delivered again after delay.
	Retry(delay time.Duration) error
	// Drop removes the item without it being done; it is never
	// delivered again.
	Drop() error
	// Touch tells the queue the consumer is still working on the item,
	// restarting its ack wait.
	Touch() error
}
