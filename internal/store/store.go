// Package store defines the persistence contracts the domain packages work
// against: the key-value Bucket that streams, widgets and accounts keep their
// records in (with a watched Cache that mirrors a bucket in memory on every
// node), the Record of the channel message log, and the durable work Queue
// that webhook calls wait in.
//
// The engine package implements Bucket on JetStream KV and Queue on a
// JetStream work-queue stream; domain packages never import NATS.
package store

import (
	"context"
	"errors"
)

// Errors returned by Bucket implementations.
var (
	ErrNotFound = errors.New("store: key not found")
	ErrExists   = errors.New("store: key exists")
	ErrConflict = errors.New("store: revision conflict")
)

// Entry is one key's value at a revision. Deleted entries appear in watches.
type Entry struct {
	Key      string
	Value    []byte
	Revision uint64
	Deleted  bool
}

// Bucket is a replicated key-value bucket with compare-and-swap updates.
type Bucket interface {
	// Get returns the current value or ErrNotFound.
	Get(ctx context.Context, key string) (Entry, error)
	// Create stores value only if key has no value; else ErrExists.
	Create(ctx context.Context, key string, value []byte) (uint64, error)
	// Update stores value only if key is at revision; else ErrConflict.
	Update(ctx context.Context, key string, value []byte, revision uint64) (uint64, error)
	// Put stores value unconditionally.
	Put(ctx context.Context, key string, value []byte) (uint64, error)
	// Delete removes key; deleting a missing key is not an error. It
	// returns a revision at or after the deletion.
	Delete(ctx context.Context, key string) (uint64, error)
	// Entries returns every current entry.
	Entries(ctx context.Context) ([]Entry, error)
	// Watch calls fn with every current entry, then calls ready once, then
	// calls fn with each later change, in revision order, from one goroutine,
	// until ctx is done.
	Watch(ctx context.Context, fn func(Entry), ready func()) error
}
