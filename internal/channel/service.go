package channel

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/tidings/tidings/internal/envelope"
	"github.com/tidings/tidings/internal/hub"
	"github.com/tidings/tidings/internal/presence"
	"github.com/tidings/tidings/internal/store"
	"github.com/tidings/tidings/internal/streams"
	"github.com/tidings/tidings/internal/tokens"
	"github.com/tidings/tidings/internal/widgets"
)

// Log is the engine's message log as the channel uses it.
type Log interface {
	Publish(ctx context.Context, stream int64, toUser string, data []byte, msgID string) (seq uint64, duplicate bool, err error)
	LastSeq(ctx context.Context) (uint64, error)
	Tail(ctx context.Context, after uint64, fn func(store.Record)) error
	History(ctx context.Context, stream int64) ([]store.Record, error)
	Range(ctx context.Context, stream int64, user string, after, upTo uint64, max int) ([]store.Record, error)
	Lost(ctx context.Context, stream int64, user string, after uint64) (bool, error)
}

// Config holds the Service's dependencies and limits. Zero limits get
// defaults.
type Config struct {
	Node    string
	Log     Log
	Signals presence.Signaler
	Streams *streams.Service
	Widgets *widgets.Service
	Signer  *tokens.Signer
	Logger  *slog.Logger
	// Webhooks takes "webhook" publishes; nil answers them 501.
	Webhooks WebhookQueue

	TokenTTL          time.Duration // subscriber token lifetime (default 24h)
	QueueSize         int           // per-subscriber queue bound (default 4096 events)
	QueueBytes        int           // per-subscriber queue bound (default 4 MiB)
	ResumeBuffer      int           // newest messages per stream kept in memory for resumes (default 256; negative: none)
	ResumeBufferBytes int           // and their bytes per stream (default 512 KiB)
	PresenceInterval  time.Duration // viewer-count coalescing window (default 200ms)
	PresenceHeartbeat time.Duration // (default 2s)
}

// Service is the channel of every live stream, as served by this node.
type Service struct {
	cfg      Config
	log      *slog.Logger
	hub      *hub.Hub
	presence *presence.Tracker
	recent   *recent
	stats    stats
	runCtx   context.Context // ends with Run's context: bounds background work
}

type stats struct {
	slow atomic.Int64 // subscribers disconnected for not keeping up
}

// Stats are counters for monitoring.
type Stats struct {
	SlowDisconnects int64
}

// Stats returns the counters so far.
func (s *Service) Stats() Stats { return Stats{SlowDisconnects: s.stats.slow.Load()} }

// New returns a Service; call Run before serving.
func New(cfg Config) *Service {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 24 * time.Hour
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 4096
	}
	if cfg.ResumeBuffer == 0 {
		cfg.ResumeBuffer = 256
	}
	if cfg.ResumeBufferBytes <= 0 {
		cfg.ResumeBufferBytes = 512 << 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		cfg: cfg, log: cfg.Logger, hub: hub.New(0), runCtx: context.Background(),
		recent: newRecent(cfg.ResumeBuffer, cfg.ResumeBufferBytes),
	}
	s.presence = presence.New(presence.Config{
		Node:     cfg.Node,
		Signals:  cfg.Signals,
		Local:    s.hub.Local,
		Streams:  s.hub.Streams,
		Announce: s.announceViewers,
		Interval: cfg.PresenceInterval,
		Beat:     cfg.PresenceHeartbeat,
		Logger:   cfg.Logger,
	})
	s.hub.OnCount = func(stream int64, _ int) { s.presence.Changed(stream) }
	cfg.Streams.OnEnd(s.streamEnded)
	return s
}

// Hub exposes this node's subscribers (for metrics and tests).
func (s *Service) Hub() *hub.Hub { return s.hub }

// Run starts following the message log, presence and routed requests. It
// returns once they are set up; they stop when ctx is done.
func (s *Service) Run(ctx context.Context) error {
	s.runCtx = ctx
	last, err := s.cfg.Log.LastSeq(ctx)
	if err != nil {
		return err
	}
	s.hub.Advance(last)
	s.recent.begin(last)
	if err := s.cfg.Log.Tail(ctx, last, s.deliver); err != nil {
		return err
	}
	if err := s.presence.Run(ctx); err != nil {
		return err
	}
	if err := s.cfg.Signals.OnSignal(ctx, "direct.>", s.routed); err != nil {
		return fmt.Errorf("channel: routed requests: %w", err)
	}
	return nil
}

// deliver hands one stored message, in log order, to local subscribers.
func (s *Service) deliver(r store.Record) {
	ev := hub.NewEvent(r.Seq, r.Data)
	switch r.Kind {
	case store.KindBroadcast:
		s.recent.add(r, ev)
		s.hub.Deliver(r.Stream, "", ev)
	case store.KindPrivate:
		s.recent.add(r, ev)
		s.hub.Deliver(r.Stream, r.ToUser, ev)
	default:
		s.hub.Advance(r.Seq)
	}
}

func (s *Service) announceViewers(stream int64, viewers int) {
	env := envelope.System(stream, "", map[string]any{"event": "viewer_count", "viewer_count": viewers})
	s.hub.Notify(stream, "", hub.NewNotice(env.Encode()))
}

func (s *Service) streamEnded(st streams.Stream) {
	s.recent.forget(st.ID)
	env := envelope.System(st.ID, "", map[string]any{
		"event":   "stream_ended",
		"message": fmt.Sprintf("stream %d has ended; the channel is closed", st.ID),
	})
	s.hub.CloseStream(st.ID, hub.ReasonEnded, hub.NewNotice(env.Encode()))
}

// Shutdown tells every local subscriber to reconnect (to another node, or to
// this one after a restart) and closes their connections.
func (s *Service) Shutdown() {
	s.hub.CloseAll(hub.ReasonShutdown, func(stream int64) *hub.Event {
		env := envelope.System(stream, "", map[string]any{
			"event":   "reconnect",
			"message": "server is restarting; reconnect to resume where you left off",
		})
		return hub.NewNotice(env.Encode())
	})
}
