package main

import (
	"flag"
	"strings"
	"time"

	"github.com/tidings/tidings/internal/server"
)

// webhookFlags registers serve's webhook flags on fs. Their environment
// forms are read by setFromEnv, like every serve flag's.
func webhookFlags(fs *flag.FlagSet, c *server.WebhookConfig) {
	fs.BoolVar(&c.AllowPrivate, "webhook-allow-private", false,
		"let webhooks call private, loopback and link-local addresses, over http too; for development and tests only (env TIDINGS_WEBHOOK_ALLOW_PRIVATE)")
	fs.BoolVar(&c.AllowHTTP, "webhook-allow-http", false,
		"let webhooks use http URLs; the address guard still applies (env TIDINGS_WEBHOOK_ALLOW_HTTP)")
	fs.Var((*addrList)(&c.AllowAddrs), "webhook-allow-addr",
		"an ip:port webhooks may call although it is private, e.g. an internal service; repeatable (env TIDINGS_WEBHOOK_ALLOW_ADDR, comma-separated)")
	fs.IntVar(&c.Attempts, "webhook-attempts", 5, "calls per webhook delivery before it is given up (env TIDINGS_WEBHOOK_ATTEMPTS)")
	fs.DurationVar(&c.Timeout, "webhook-timeout", 10*time.Second, "bound on one webhook call, redirects and answer included (env TIDINGS_WEBHOOK_TIMEOUT)")
	fs.DurationVar(&c.Backoff, "webhook-backoff", time.Second, "wait after a failed webhook attempt, doubling each time (env TIDINGS_WEBHOOK_BACKOFF)")
	fs.DurationVar(&c.MaxBackoff, "webhook-max-backoff", 10*time.Minute, "longest wait between webhook attempts (env TIDINGS_WEBHOOK_MAX_BACKOFF)")
	fs.Float64Var(&c.Rate, "webhook-rate", 10, "webhook publishes per widget per second (env TIDINGS_WEBHOOK_RATE)")
	fs.IntVar(&c.Concurrency, "webhook-concurrency", 32, "webhook calls in flight on this node (env TIDINGS_WEBHOOK_CONCURRENCY)")
}

// addrList is a repeatable flag of comma-separated addresses: each use,
// the environment variable's included, adds to the list.
type addrList []string

func (l *addrList) String() string { return strings.Join(*l, ",") }
func (l *addrList) Set(v string) error {
	*l = append(*l, splitList(v)...)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
