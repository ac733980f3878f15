package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tidings/tidings/internal/store"
)

// QueueConfig names a durable work queue and bounds it. Zero values get
// defaults.
type QueueConfig struct {
	// Name is the queue's name in upper case, e.g. "WEBHOOKS": its items
	// live in the stream TIDINGS_<Name>, its dead letters in
	// TIDINGS_<Name>_DLQ.
	Name string
	// Subject is the subject token, e.g. "wh": items are published on
	// tdg.<Subject>.job, dead letters on tdg.<Subject>dlq.<id>.
	Subject string
	// AckWait is how long a consumer may hold an item without Ack, Retry
	// or Touch before it is delivered again (default 30s).
	AckWait time.Duration
	// MaxItems bounds the items queued; Enqueue beyond it fails with
	// store.ErrFull (default 100000).
	MaxItems int64
	// DeadMaxAge is how long dead letters are kept (default 30 days).
	DeadMaxAge time.Duration
}

// errCodeStoreFailed is JetStream's "storing failed" error, which a stream
// that discards new messages answers when it is at its limits.
const errCodeStoreFailed jetstream.ErrorCode = 10077

// validItemID keeps item ids safe as NATS subject tokens and message ids.
func validItemID(id string) bool {
	if id == "" || len(id) > 200 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_.:-", c)) {
			return false
		}
	}
	return true
}

type queue struct {
	e       *Engine
	cfg     QueueConfig
	stream  string
	subject string
	dead    jetstream.Stream
	deadPfx string
}

var _ store.Queue = (*queue)(nil)

// Queue opens (creating or updating) the work queue cfg names. Replicas come
// from the engine's config, so a queue survives the loss of a node in a
// JetStream cluster as the message stream does.
func (e *Engine) Queue(ctx context.Context, cfg QueueConfig) (store.Queue, error) {
	if cfg.Name == "" || cfg.Subject == "" || strings.ContainsAny(cfg.Subject, ".*> ") {
		return nil, fmt.Errorf("engine: queue needs a name and a one-token subject, got %q, %q", cfg.Name, cfg.Subject)
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 30 * time.Second
	}
	if cfg.MaxItems <= 0 {
		cfg.MaxItems = 100000
	}
	if cfg.DeadMaxAge <= 0 {
		cfg.DeadMaxAge = 30 * 24 * time.Hour
	}
	q := &queue{e: e, cfg: cfg, stream: "TIDINGS_" + cfg.Name, subject: "tdg." + cfg.Subject + ".job", deadPfx: "tdg." + cfg.Subject + "dlq."}
	_, err := e.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        q.stream,
		Description: "Tidings work queue " + cfg.Name,
		Subjects:    []string{"tdg." + cfg.Subject + ".>"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		// Refuse new work when full rather than drop queued work.
		Discard:    jetstream.DiscardNew,
		MaxMsgs:    cfg.MaxItems,
		Duplicates: e.cfg.DuplicateWindow,
		Replicas:   e.cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("engine: queue %s: %w", cfg.Name, err)
	}
	q.dead, err = e.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:              q.stream + "_DLQ",
		Description:       "Tidings dead letters of " + cfg.Name,
		Subjects:          []string{q.deadPfx + ">"},
		Retention:         jetstream.LimitsPolicy,
		Storage:           jetstream.FileStorage,
		Discard:           jetstream.DiscardOld,
		MaxAge:            cfg.DeadMaxAge,
		MaxMsgs:           cfg.MaxItems,
		MaxMsgsPerSubject: 1,
		Replicas:          e.cfg.Replicas,
		AllowDirect:       true,
	})
	if err != nil {
		return nil, fmt.Errorf("engine: dead letters of %s: %w", cfg.Name, err)
	}
	return q, nil
}

func (q *queue) Enqueue(ctx context.Context, id string, data []byte) error {
	if !validItemID(id) {
		return fmt.Errorf("engine: queue %s: bad item id %q", q.cfg.Name, id)
	}
	_, err := q.e.js.Publish(ctx, q.subject, data, jetstream.WithMsgID(id), jetstream.WithExpectStream(q.stream))
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeStoreFailed && strings.Contains(apiErr.Description, "maximum") {
		return store.ErrFull
	}
	if err != nil {
		return fmt.Errorf("engine: enqueue on %s: %w", q.cfg.Name, err)
	}
	return nil
}

func (q *queue) Consume(ctx context.Context, prefetch int, fn func(store.Job)) error {
	cons, err := q.e.js.CreateOrUpdateConsumer(ctx, q.stream, jetstream.ConsumerConfig{
		Durable:   "workers",
		AckPolicy: jetstream.AckExplicitPolicy,
		AckWait:   q.cfg.AckWait,
		// Consumers count attempts themselves and drop or bury items;
		// a server-side limit would strand items in the stream instead.
		MaxDeliver: -1,
		// Items waiting out a Retry delay count as pending: allow as many
		// as the queue can hold, so backed-off items never stall new ones.
		MaxAckPending: int(q.cfg.MaxItems),
	})
	if err != nil {
		return fmt.Errorf("engine: queue %s consumer: %w", q.cfg.Name, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(max(prefetch, 1)))
	if err != nil {
		return fmt.Errorf("engine: queue %s: %w", q.cfg.Name, err)
	}
	go func() {
		<-ctx.Done()
		// Stop pulling; the items already fetched come out of Next below
		// and are handed back at once, so that another node takes them now
		// rather than after their ack wait.
		it.Drain()
	}()
	go func() {
		for {
			m, err := it.Next()
			switch {
			case errors.Is(err, jetstream.ErrMsgIteratorClosed):
				return
			case err != nil:
				// Missed heartbeats and the like: the iterator
				// recovers on its own.
				q.e.log.Warn("engine: queue consume", "queue", q.cfg.Name, "err", err)
				continue
			case ctx.Err() != nil:
				_ = m.Nak()
				continue
			}
			fn(job{m})
		}
	}()
	return nil
}

func (q *queue) Bury(ctx context.Context, id string, data []byte) error {
	if !validItemID(id) {
		return fmt.Errorf("engine: queue %s: bad item id %q", q.cfg.Name, id)
	}
	if _, err := q.e.js.Publish(ctx, q.deadPfx+id, data, jetstream.WithMsgID(id)); err != nil {
		return fmt.Errorf("engine: bury on %s: %w", q.cfg.Name, err)
	}
	return nil
}

func (q *queue) Buried(ctx context.Context, id string) ([]byte, error) {
	if !validItemID(id) {
		return nil, store.ErrNotFound
	}
	m, err := q.dead.GetLastMsgForSubject(ctx, q.deadPfx+id)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("engine: dead letter %s: %w", id, err)
	}
	return m.Data, nil
}

// job adapts a JetStream message to store.Job.
type job struct{ m jetstream.Msg }

func (j job) Data() []byte { return j.m.Data() }

func (j job) Delivered() int {
	meta, err := j.m.Metadata()
	if err != nil {
		return 1
	}
	return int(meta.NumDelivered)
}

func (j job) Ack() error                      { return j.m.Ack() }
func (j job) Retry(delay time.Duration) error { return j.m.NakWithDelay(delay) }
func (j job) Drop() error                     { return j.m.Term() }
func (j job) Touch() error                    { return j.m.InProgress() }
