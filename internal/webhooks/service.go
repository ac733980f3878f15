package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/tidings/tidings/internal/channel"
	"github.com/tidings/tidings/internal/fault"
	"github.com/tidings/tidings/internal/store"
	"github.com/tidings/tidings/internal/widgets"
)

// Widgets is the widget registry as webhooks use it.
type Widgets interface {
	// Get returns account's widget id, or a fault.ErrNotFound error.
	Get(account string, id int64) (widgets.Widget, error)
	// EnsureWebhookSecret gives the widget a webhook secret if it has
	// none (widgets made before webhooks) and returns it.
	EnsureWebhookSecret(ctx context.Context, account string, id int64) (widgets.Widget, error)
}

// Results takes the outcome of a delivery to its requester (the channel
// service implements it).
type Results interface {
	SendResult(ctx context.Context, stream int64, user, id string, message any) error
}

// Config holds the Service's dependencies and limits. Zero values get
// defaults.
type Config struct {
	Queue   store.Queue
	Widgets Widgets
	Results Results
	Logger  *slog.Logger
	Now     func() time.Time

	// AllowPrivate lets webhooks reach any address, private and loopback
	// included, over http or https: for development and tests only.
	AllowPrivate bool
	// AllowHTTP permits http URLs (the guard still applies).
	AllowHTTP bool
	// AllowAddrs are exact addresses the guard lets through anyway.
	AllowAddrs []netip.AddrPort

	Attempts    int           // calls per delivery before it is given up (default 5)
	Timeout     time.Duration // bound on one call, redirects and body included (default 10s)
	Backoff     time.Duration // wait after the first failed attempt; doubles each time (default 1s)
	MaxBackoff  time.Duration // bound on the wait between attempts (default 10m)
	Rate        float64       // webhook publishes per widget per second (default 10)
	Concurrency int           // calls in flight on this node (default 32)
	// WidgetConcurrency bounds one widget's calls in flight on this node
	// (default a quarter of Concurrency, at least 1).
	WidgetConcurrency int
	MaxResponse       int64 // bytes of an answer kept for the requester (default 64 KiB)
	MaxRedirects      int   // redirects followed, each checked again (default 3)
}

func (c *Config) defaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Attempts <= 0 {
		c.Attempts = 5
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Backoff <= 0 {
		c.Backoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 10 * time.Minute
	}
	if c.Rate <= 0 {
		c.Rate = 10
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 32
	}
	if c.WidgetConcurrency <= 0 {
		c.WidgetConcurrency = max(1, c.Concurrency/4)
	}
	if c.MaxResponse <= 0 {
		c.MaxResponse = 64 << 10
	}
	if c.MaxRedirects <= 0 {
		c.MaxRedirects = 3
	}
	if c.AllowPrivate {
		c.AllowHTTP = true
	}
}

// AckWait is the queue ack wait that suits calls bounded by timeout (0 for
// the default): a job may wait about one call in the prefetch buffer, then
// take one call and the sending of its result.
func AckWait(timeout time.Duration) time.Duration {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return 2*timeout + 10*time.Second
}

// Service queues webhook calls, makes them and reports their results.
type Service struct {
	cfg     Config
	log     *slog.Logger
	guard   *Guard
	caller  *caller
	limits  *limits
	metrics Metrics

	slots   chan struct{} // one per call in flight on this node
	running sync.WaitGroup
	stopped sync.Once
}

var _ channel.WebhookQueue = (*Service)(nil)

// New returns a Service; call Run to start delivering.
func New(cfg Config) *Service {
	cfg.defaults()
	g := NewGuard(cfg.AllowPrivate, cfg.AllowAddrs)
	return &Service{
		cfg:    cfg,
		log:    cfg.Logger,
		guard:  g,
		caller: newCaller(g, cfg.Timeout, cfg.MaxResponse, cfg.MaxRedirects),
		limits: newLimits(cfg.Rate, cfg.WidgetConcurrency),
		slots:  make(chan struct{}, cfg.Concurrency),
	}
}

// Metrics exposes the counters.
func (s *Service) Metrics() *Metrics { return &s.metrics }

// Errors a publisher can get beyond those about the URL.
var (
	ErrRateLimited = fault.New(fault.ErrRateLimited, "too many webhooks from this widget; slow down and retry shortly")
	ErrQueueFull   = fault.New(fault.ErrUnavailable, "too many webhooks are waiting to be delivered; retry later")
	ErrNotQueued   = fault.New(fault.ErrUnavailable, "the webhook could not be queued; it was not sent, retry shortly")
)

// Submit checks a webhook publish and queues its call. It returns nil once
// the call is durably queued.
func (s *Service) Submit(ctx context.Context, r channel.WebhookRequest) error {
	target, err := targetURL(r.Message, r.Widget, s.cfg.AllowHTTP)
	if err != nil {
		return err
	}
	if wait, ok := s.limits.allow(r.Widget.ID); !ok {
		s.metrics.limited.Add(1)
		return fault.RetryLater(ErrRateLimited, wait)
	}
	if r.Widget.WebhookSecret == "" {
		if _, err := s.cfg.Widgets.EnsureWebhookSecret(ctx, r.Widget.Account, r.Widget.ID); err != nil {
			s.log.Error("webhooks: webhook secret", "widget", r.Widget.ID, "err", err)
			return ErrNotQueued
		}
	}
	now := s.cfg.Now()
	j := job{
		ID:      newDeliveryID(r.Stream, r.User, r.IdempotencyKey),
		Attempt: 1,
		Stream:  r.Stream, User: r.User, Account: r.Widget.Account, Widget: r.Widget.ID,
		URL: target.String(),
	}
	j.Body, _ = json.Marshal(Payload{
		Type: "webhook", DeliveryID: j.ID, StreamID: strconv.FormatInt(r.Stream, 10), AuthorID: r.User,
		WidgetID: r.Widget.ID, Message: r.Message, Timestamp: r.Timestamp, RequestedAt: now.Unix(),
	})
	data, _ := json.Marshal(j)
	switch err := s.cfg.Queue.Enqueue(ctx, j.queueID(), data); {
	case errors.Is(err, store.ErrFull):
		return ErrQueueFull
	case err != nil:
		s.log.Error("webhooks: enqueue", "delivery", j.ID, "err", err)
		return ErrNotQueued
	}
	s.metrics.queued.Add(1)
	return nil
}

// DeadLetter returns the record kept for a delivery that was given up, as
// JSON, or store.ErrNotFound.
func (s *Service) DeadLetter(ctx context.Context, deliveryID string) ([]byte, error) {
	return s.cfg.Queue.Buried(ctx, deliveryID)
}
