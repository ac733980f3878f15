package webhooks

import "sync/atomic"

// Metrics counts what webhooks did on this node since it started. Safe for
// concurrent use; read it with Snapshot.
type Metrics struct {
	queued    atomic.Uint64
	delivered atomic.Uint64
	retried   atomic.Uint64
	failed    atomic.Uint64
	refused   atomic.Uint64
	deferred  atomic.Uint64
	limited   atomic.Uint64
}

// Snapshot is Metrics at one moment.
type Snapshot struct {
	// Queued counts webhook publishes accepted into the queue.
	Queued uint64
	// Delivered counts calls that ended with an answer from the receiver
	// that is final (2xx, or a 4xx other than 408 and 429).
	Delivered uint64
	// Retried counts attempts that failed and were scheduled again.
	Retried uint64
	// Failed counts deliveries given up: attempts spent, or a failure that
	// would repeat (guard, redirect, deleted widget). Each has a
	// dead-letter record.
	Failed uint64
	// Refused counts connections the network guard refused (also Failed).
	Refused uint64
	// Deferred counts jobs put back because their widget had as many calls
	// in flight as it may.
	Deferred uint64
	// RateLimited counts webhook publishes refused with 429.
	RateLimited uint64
}

// Snapshot returns the current counts.
func (m *Metrics) Snapshot() Snapshot {
	return Snapshot{
		Queued:      m.queued.Load(),
		Delivered:   m.delivered.Load(),
		Retried:     m.retried.Load(),
		Failed:      m.failed.Load(),
		Refused:     m.refused.Load(),
		Deferred:    m.deferred.Load(),
		RateLimited: m.limited.Load(),
	}
}
