package server

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/tidings/tidings/internal/engine"
	"github.com/tidings/tidings/internal/webhooks"
)

// WebhookConfig is the operator's say over webhooks. Zero values get the
// webhooks package's defaults.
type WebhookConfig struct {
	// AllowPrivate lets webhooks call private, loopback and link-local
	// addresses, over http too: development and tests only.
	AllowPrivate bool
	// AllowHTTP permits http URLs; the address guard still applies.
	AllowHTTP bool
	// AllowAddrs are exact "ip:port" addresses webhooks may call although
	// they are private (an internal service the operator vouches for).
	AllowAddrs  []string
	Attempts    int           // calls per delivery before it is given up (5)
	Timeout     time.Duration // bound on one call (10s)
	Backoff     time.Duration // first wait between attempts, doubling (1s)
	MaxBackoff  time.Duration // longest wait between attempts (10m)
	Rate        float64       // webhook publishes per widget per second (10)
	Concurrency int           // calls in flight on this node (32)
}

// buildWebhooks opens the webhook queue and makes the service. Results go
// through the channel service, which is built after it.
func (s *Server) buildWebhooks(ctx context.Context) error {
	c := s.cfg.Webhooks
	allow := make([]netip.AddrPort, 0, len(c.AllowAddrs))
	for _, a := range c.AllowAddrs {
		ap, err := netip.ParseAddrPort(a)
		if err != nil {
			return fmt.Errorf("server: webhook allowed address %q: want ip:port", a)
		}
		allow = append(allow, ap)
	}
	q, err := s.eng.Queue(ctx, engine.QueueConfig{Name: "WEBHOOKS", Subject: "wh", AckWait: webhooks.AckWait(c.Timeout)})
	if err != nil {
		return err
	}
	s.webhooks = webhooks.New(webhooks.Config{
		Queue: q, Widgets: s.widgets, Results: resultsVia{s}, Logger: s.log,
		AllowPrivate: c.AllowPrivate, AllowHTTP: c.AllowHTTP, AllowAddrs: allow,
		Attempts: c.Attempts, Timeout: c.Timeout, Backoff: c.Backoff, MaxBackoff: c.MaxBackoff, Rate: c.Rate, Concurrency: c.Concurrency,
	})
	return nil
}

// resultsVia hands webhook results to the channel service once it exists.
type resultsVia struct{ s *Server }

func (r resultsVia) SendResult(ctx context.Context, stream int64, user, id string, message any) error {
	return r.s.channel.SendResult(ctx, stream, user, id, message)
}

// Webhooks exposes the webhook service (metrics, dead letters; tests).
func (s *Server) Webhooks() *webhooks.Service { return s.webhooks }
