package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/tidings/tidings/internal/accounts"
	"github.com/tidings/tidings/internal/channel"
	"github.com/tidings/tidings/internal/engine"
	"github.com/tidings/tidings/internal/httpapi"
	"github.com/tidings/tidings/internal/sse"
	"github.com/tidings/tidings/internal/store"
	"github.com/tidings/tidings/internal/streams"
	"github.com/tidings/tidings/internal/tokens"
	"github.com/tidings/tidings/internal/web"
	"github.com/tidings/tidings/internal/webhooks"
	"github.com/tidings/tidings/internal/widgets"
)

// Config is everything a node needs. Zero values get working defaults.
type Config struct {
	Listen     string // HTTP address (default 127.0.0.1:8080)
	DataDir    string // embedded engine store (default ./data)
	NATSURL    string // external NATS; empty runs the engine embedded
	NATSListen string // expose the embedded NATS on this address
	Node       string // node name (default: host name and a random suffix)
	APIKey     string // registered as an admin application key at start
	Demo       bool   // create and print a demo stream and widget

	SyncAlways      bool
	Replicas        int
	HistoryMaxMsgs  int64
	HistoryMaxAge   time.Duration
	MaxBody         int64
	Heartbeat       time.Duration
	QueueSize       int
	QueueBytes      int
	ResumeBuffer    int           // messages per stream kept in memory for resumes (default 256; negative: none)
	WriteTimeout    time.Duration // bound on one SSE write to a client
	WritePace       float64       // see sse.Config.Pace
	WriteMaxDelay   time.Duration // see sse.Config.MaxDelay
	TokenTTL        time.Duration
	ShutdownTimeout time.Duration // bound on graceful shutdown (default 10s)
	Webhooks        WebhookConfig

	Logger *slog.Logger
	Stdout io.Writer // where the start banner goes (default os.Stdout)
}

// Server is one running Tidings node.
type Server struct {
	cfg      Config
	log      *slog.Logger
	eng      *engine.Engine
	channel  *channel.Service
	streams  *streams.Service
	widgets  *widgets.Service
	accounts *accounts.Service
	webhooks *webhooks.Service
	api      *httpapi.API
	sse      *sse.Server
	cancel   context.CancelFunc // stops the background watchers
	url      string
}

func (c *Config) defaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.Node == "" {
		host, _ := os.Hostname()
		var b [3]byte
		_, _ = rand.Read(b[:])
		c.Node = fmt.Sprintf("%s-%x", host, b)
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Stdout == nil {
		c.Stdout = os.Stdout
	}
}

// New opens the engine and builds the node. It does not listen yet.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg.defaults()
	eng, err := engine.Open(ctx, engine.Config{
		URL: cfg.NATSURL, DataDir: cfg.DataDir, Listen: cfg.NATSListen, SyncAlways: cfg.SyncAlways,
		Replicas: cfg.Replicas, HistoryMaxMsgs: cfg.HistoryMaxMsgs, HistoryMaxAge: cfg.HistoryMaxAge,
		Name: cfg.Node, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, eng: eng}
	if err := s.build(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) build(ctx context.Context) error {
	buckets := map[string]store.Bucket{}
	for _, b := range []struct{ name, desc string }{
		{"tidings_meta", "Tidings: server secret, counters, demo"},
		{"tidings_streams", "Tidings: streams"},
		{"tidings_widgets", "Tidings: widgets"},
		{"tidings_accounts", "Tidings: accounts"},
		{"tidings_keys", "Tidings: application key hashes"},
	} {
		bk, err := s.eng.Bucket(ctx, b.name, b.desc)
		if err != nil {
			return err
		}
		buckets[b.name] = bk
	}
	meta := buckets["tidings_meta"]
	secret, err := sharedSecret(ctx, meta)
	if err != nil {
		return err
	}
	signer := tokens.NewSigner(secret, nil)

	s.streams = streams.New(streams.Config{Bucket: buckets["tidings_streams"], IDs: meta, Sync: s.barrier("streams")})
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.widgets = widgets.New(widgets.Config{Bucket: buckets["tidings_widgets"], IDs: meta, Sync: s.barrier("widgets")})
	if err := s.eng.OnBarrier(runCtx, "widgets", s.widgets.WaitRevision); err != nil {
		return err
	}
	if err := s.eng.OnBarrier(runCtx, "streams", s.streams.WaitRevision); err != nil {
		return err
	}
	s.accounts = accounts.New(accounts.Config{Accounts: buckets["tidings_accounts"], Keys: buckets["tidings_keys"], Signer: signer})
	if err := s.buildWebhooks(ctx); err != nil {
		return err
	}
	s.channel = channel.New(channel.Config{
		Webhooks: s.webhooks, Node: s.cfg.Node, Log: s.eng, Signals: s.eng, Streams: s.streams, Widgets: s.widgets,
		Signer: signer, Logger: s.log, TokenTTL: s.cfg.TokenTTL, QueueSize: s.cfg.QueueSize, QueueBytes: s.cfg.QueueBytes,
		ResumeBuffer: s.cfg.ResumeBuffer,
	})

	if err := s.streams.Run(runCtx); err != nil {
		return err
	}
	if err := s.widgets.Run(runCtx); err != nil {
		return err
	}
	if err := s.channel.Run(runCtx); err != nil {
		return err
	}
	if err := s.webhooks.Run(runCtx); err != nil {
		return err
	}
	if err := s.accounts.EnsureAdmin(ctx, s.cfg.APIKey); err != nil {
		return err
	}
	s.sse = sse.New(sse.Config{
		Heartbeat: s.cfg.Heartbeat, WriteTimeout: s.cfg.WriteTimeout,
		Pace: s.cfg.WritePace, MaxDelay: s.cfg.WriteMaxDelay,
		Notice: channel.ClosingNotice,
	})
	s.api = httpapi.New(httpapi.Config{
		Channel: s.channel, Streams: s.streams, Widgets: s.widgets, Accounts: s.accounts, SSE: s.sse,
		Logger: s.log, Ready: s.eng.Ready, MaxBody: s.cfg.MaxBody,
		Extra: web.New(s.webConfig()).Mount, // landing page, SDK, examples
	})
	return nil
}

// barrier returns a sync function for a registry: it waits until every
// live node has applied a revision of topic's bucket. It is bounded, and
// gives up with a warning rather than an error: a node that died a moment
// ago must not block changes, and it serves nothing it has not loaded.
func (s *Server) barrier(topic string) func(ctx context.Context, rev uint64) error {
	return func(ctx context.Context, rev uint64) error {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if err := s.eng.Barrier(ctx, topic, rev); err != nil {
			s.log.Warn("change not confirmed by every node", "topic", topic, "err", err)
		}
		return nil
	}
}

// sharedSecret returns the signing secret all nodes share, creating it on
// first start.
func sharedSecret(ctx context.Context, meta store.Bucket) ([]byte, error) {
	fresh := make([]byte, 32)
	_, _ = rand.Read(fresh)
	if _, err := meta.Create(ctx, "secret", fresh); err == nil {
		return fresh, nil
	} else if !errors.Is(err, store.ErrExists) {
		return nil, fmt.Errorf("server: create secret: %w", err)
	}
	e, err := meta.Get(ctx, "secret")
	if err != nil {
		return nil, fmt.Errorf("server: read secret: %w", err)
	}
	return e.Value, nil
}

// Handler is the node's HTTP handler.
func (s *Server) Handler() http.Handler { return s.api.Handler() }

// Engine exposes the engine (tests use its NATS URL).
func (s *Server) Engine() *engine.Engine { return s.eng }

// Channel exposes the channel service (tests inspect the hub).
func (s *Server) Channel() *channel.Service { return s.channel }

// URL is the base URL once Serve has started.
func (s *Server) URL() string { return s.url }

// Run listens on cfg.Listen and serves until ctx is done, then shuts down
// gracefully.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done. Then it stops accepting, tells every
// subscriber to reconnect, waits (bounded) for requests in flight and stops
// the engine.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.url = "http://" + ln.Addr().String()
	if s.cfg.Demo {
		if err := s.setupDemo(ctx); err != nil {
			ln.Close()
			return err
		}
	} else {
		fmt.Fprintf(s.cfg.Stdout, "Tidings is listening on %s\n", s.url)
	}
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("serving", "url", s.url, "node", s.cfg.Node, "embedded_engine", s.eng.Embedded())
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	// Shutdown closes the listener at once, then waits for handlers. SSE
	// streams never finish on their own, so their subscriptions are closed
	// (with a "reconnect" notice) until none is left, and the writer pool
	// waits for those notices to be flushed.
	done := make(chan error, 1)
	go func() { done <- hs.Shutdown(sctx) }()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		s.channel.Shutdown()
		select {
		case err := <-done:
			if errors.Is(err, context.DeadlineExceeded) {
				_ = hs.Close()
			}
			s.channel.Shutdown()
			s.sse.Close(sctx)
			s.Close()
			return nil
		case <-tick.C:
		}
	}
}

// Close stops the background work and the engine (flushing its store).
func (s *Server) Close() {
	if s.sse != nil {
		now, cancel := context.WithCancel(context.Background())
		cancel() // connections still open now are closed at once
		s.sse.Close(now)
	}
	if s.cancel != nil {
		s.cancel()
	}
	if s.webhooks != nil {
		s.webhooks.Wait() // calls in flight go back to the queue first
	}
	if s.eng != nil {
		_ = s.eng.Close()
		s.eng = nil
	}
}
