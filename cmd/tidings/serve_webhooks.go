package main

import (
	"flag"
	"strconv"
	"strings"
	"time"

	"github.com/tidings/tidings/internal/server"
)

// webhookFlags registers serve's webhook flags on fs; env reads the
// TIDINGS_* form of a setting, with a default.
func webhookFlags(fs *flag.FlagSet, c *server.WebhookConfig, env func(name, def string) string) {
	boolean := func(name string) bool { b, _ := strconv.ParseBool(env(name, "false")); return b }
	integer := func(name string, def int) int {
		if n, err := strconv.Atoi(env(name, "")); err == nil {
			return n
		}
		return def
	}
	duration := func(name string, def time.Duration) time.Duration {
		if d, err := time.ParseDuration(env(name, "")); err == nil {
			return d
		}
		return def
	}
	rate := 10.0
	if f, err := strconv.ParseFloat(env("WEBHOOK_RATE", ""), 64); err == nil {
		rate = f
	}
	fs.BoolVar(&c.AllowPrivate, "webhook-allow-private", boolean("WEBHOOK_ALLOW_PRIVATE"),
		"let webhooks call private, loopback and link-local addresses, over http too; for development and tests only (env TIDINGS_WEBHOOK_ALLOW_PRIVATE)")
	fs.BoolVar(&c.AllowHTTP, "webhook-allow-http", boolean("WEBHOOK_ALLOW_HTTP"),
		"let webhooks use http URLs; the address guard still applies (env TIDINGS_WEBHOOK_ALLOW_HTTP)")
	c.AllowAddrs = splitList(env("WEBHOOK_ALLOW_ADDR", ""))
	fs.Var((*addrList)(&c.AllowAddrs), "webhook-allow-addr",
		"an ip:port webhooks may call although it is private, e.g. an internal service; repeatable (env TIDINGS_WEBHOOK_ALLOW_ADDR, comma-separated)")
	fs.IntVar(&c.Attempts, "webhook-attempts", integer("WEBHOOK_ATTEMPTS", 5), "calls per webhook delivery before it is given up (env TIDINGS_WEBHOOK_ATTEMPTS)")
	fs.DurationVar(&c.Timeout, "webhook-timeout", duration("WEBHOOK_TIMEOUT", 10*time.Second), "bound on one webhook call, redirects and answer included (env TIDINGS_WEBHOOK_TIMEOUT)")
	fs.DurationVar(&c.Backoff, "webhook-backoff", duration("WEBHOOK_BACKOFF", time.Second), "wait after a failed webhook attempt, doubling each time (env TIDINGS_WEBHOOK_BACKOFF)")
	fs.Float64Var(&c.Rate, "webhook-rate", rate, "webhook publishes per widget per second (env TIDINGS_WEBHOOK_RATE)")
	fs.IntVar(&c.Concurrency, "webhook-concurrency", integer("WEBHOOK_CONCURRENCY", 32), "webhook calls in flight on this node (env TIDINGS_WEBHOOK_CONCURRENCY)")
}

// addrList is a repeatable flag of comma-separated addresses.
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
