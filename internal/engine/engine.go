package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config describes how to reach (or run) NATS and how to keep messages.
// Zero values get defaults.
type Config struct {
	// URL of an external NATS server or cluster; empty starts an embedded one.
	URL string
	// DataDir holds the embedded server's JetStream store.
	DataDir string
	// Listen, for the embedded server only, exposes it on a TCP address
	// (e.g. "127.0.0.1:4222") so other Tidings nodes can share it. Empty: no
	// TCP port.
	Listen string
	// SyncAlways makes the embedded server fsync every write (power-loss
	// safe, slower). By default an acknowledged write survives a process
	// crash but the OS may lose the last seconds on power loss.
	SyncAlways bool
	// Replicas for the message stream and KV buckets (1 embedded; 3 in a
	// JetStream cluster).
	Replicas int
	// HistoryMaxMsgs bounds the broadcasts kept per Tidings stream, and the
	// private messages kept per user.
	HistoryMaxMsgs int64
	// HistoryMaxAge bounds how long any message is kept.
	HistoryMaxAge time.Duration
	// DuplicateWindow is how long an idempotency key is remembered.
	DuplicateWindow time.Duration
	// ReadConcurrency bounds the history reads in flight (default 8).
	ReadConcurrency int
	// Name identifies this node in logs and to NATS.
	Name   string
	Logger *slog.Logger
}

func (c *Config) defaults() {
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.HistoryMaxMsgs <= 0 {
		c.HistoryMaxMsgs = 1000
	}
	if c.HistoryMaxAge <= 0 {
		c.HistoryMaxAge = 7 * 24 * time.Hour
	}
	if c.DuplicateWindow <= 0 {
		c.DuplicateWindow = 2 * time.Minute
	}
	// JetStream refuses a duplicate window longer than the age limit; a key
	// cannot outlive the message it deduplicates anyway.
	c.DuplicateWindow = min(c.DuplicateWindow, c.HistoryMaxAge)
	if c.ReadConcurrency <= 0 {
		c.ReadConcurrency = 8
	}
	if c.Name == "" {
		c.Name = "tidings"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Engine is a connection to NATS JetStream, plus the embedded server when
// there is one.
type Engine struct {
	cfg Config
	log *slog.Logger
	ns  *server.Server // nil when external
	nc  *nats.Conn
	// rc carries bulk history reads (direct gets), so that a storm of
	// resumes and history requests queues behind itself, not in front of
	// publish acknowledgements and the tail on nc.
	rc    *nats.Conn
	reads chan struct{} // read slots (see acquireRead)
	js    jetstream.JetStream
	msgs  jetstream.Stream

	members *membership
	stop    context.CancelFunc // ends the membership beat
}

// Open starts or connects to NATS and makes sure the message stream exists
// with cfg's limits.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	cfg.defaults()
	e := &Engine{cfg: cfg, log: cfg.Logger, reads: make(chan struct{}, cfg.ReadConcurrency)}
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				e.log.Warn("engine: disconnected from NATS", "err", err)
			}
		}),
		// Asynchronous errors (a slow subscription, a consumer deleted
		// under a watcher at shutdown) go to our log, not to stderr.
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			e.log.Warn("engine: NATS", "subject", subject, "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			e.log.Info("engine: reconnected to NATS", "url", nc.ConnectedUrlRedacted())
		}),
	}
	url := cfg.URL
	if url == "" {
		ns, err := startEmbedded(cfg)
		if err != nil {
			return nil, err
		}
		e.ns = ns
		opts = append(opts, nats.InProcessServer(ns))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		e.shutdownServer()
		return nil, fmt.Errorf("engine: connect to NATS: %w", err)
	}
	e.nc = nc
	if e.rc, err = nats.Connect(url, append(opts, nats.Name(cfg.Name+"-reads"))...); err != nil {
		e.Close()
		return nil, fmt.Errorf("engine: connect to NATS for reads: %w", err)
	}
	if e.js, err = jetstream.New(nc); err != nil {
		e.Close()
		return nil, fmt.Errorf("engine: jetstream: %w", err)
	}
	if err := e.ensureMessages(ctx); err != nil {
		e.Close()
		return nil, err
	}
	bg, stop := context.WithCancel(context.Background())
	e.stop = stop
	if err := e.startMembership(bg); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func startEmbedded(cfg Config) (*server.Server, error) {
	o := &server.Options{
		ServerName: cfg.Name,
		JetStream:  true,
		StoreDir:   filepath.Join(cfg.DataDir, "jetstream"),
		SyncAlways: cfg.SyncAlways,
		DontListen: cfg.Listen == "",
		NoSigs:     true,
		NoLog:      true,
		MaxPayload: 8 << 20,
	}
	if cfg.Listen != "" {
		host, port, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("engine: NATS listen address %q: %w", cfg.Listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("engine: NATS listen port %q: %w", port, err)
		}
		if p == 0 {
			p = -1 // random
		}
		o.Host, o.Port = host, p
	}
	ns, err := server.NewServer(o)
	if err != nil {
		return nil, fmt.Errorf("engine: embedded NATS: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("engine: embedded NATS did not become ready within 30s")
	}
	return ns, nil
}

// ClientURL is the TCP URL of the embedded server when it listens, else "".
func (e *Engine) ClientURL() string {
	if e.ns == nil || e.cfg.Listen == "" {
		return ""
	}
	return e.ns.ClientURL()
}

// Embedded reports whether the NATS server runs inside this process.
func (e *Engine) Embedded() bool { return e.ns != nil }

// Ready reports whether the engine is connected.
func (e *Engine) Ready() bool { return e.nc != nil && e.nc.IsConnected() }

// Close drains the connection and stops the embedded server, if any, after
// its store is flushed.
func (e *Engine) Close() error {
	if e.stop != nil {
		e.stop()
	}
	if e.rc != nil {
		e.rc.Close() // reads in flight fail; nothing buffered is lost
	}
	if e.nc != nil {
		if err := e.nc.Drain(); err != nil {
			e.nc.Close()
		}
		// Drain is asynchronous; wait for it so buffered publishes go out.
		for i := 0; i < 100 && !e.nc.IsClosed(); i++ {
			time.Sleep(20 * time.Millisecond)
		}
		e.nc.Close()
	}
	e.shutdownServer()
	return nil
}

func (e *Engine) shutdownServer() {
	if e.ns != nil {
		e.ns.Shutdown()
		e.ns.WaitForShutdown()
	}
}
