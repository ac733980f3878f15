package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/tidings/tidings/internal/server"
)

// serve parses the serve flags (each with a TIDINGS_* environment form) and
// runs a node until ctx is done.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv("TIDINGS_" + name); v != "" {
			return v
		}
		return def
	}
	envBool := func(name string) bool { b, _ := strconv.ParseBool(env(name, "false")); return b }
	envInt := func(name string, def int64) int64 {
		n, err := strconv.ParseInt(env(name, ""), 10, 64)
		if err != nil {
			return def
		}
		return n
	}
	envFloat := func(name string, def float64) float64 {
		f, err := strconv.ParseFloat(env(name, ""), 64)
		if err != nil {
			return def
		}
		return f
	}
	envDur := func(name string, def time.Duration) time.Duration {
		d, err := time.ParseDuration(env(name, ""))
		if err != nil {
			return def
		}
		return d
	}

	var cfg server.Config
	fs.StringVar(&cfg.Listen, "listen", env("LISTEN", "127.0.0.1:8080"), "HTTP listen address (env TIDINGS_LISTEN)")
	fs.StringVar(&cfg.DataDir, "data", env("DATA", "./data"), "data directory of the embedded engine (env TIDINGS_DATA)")
	fs.StringVar(&cfg.NATSURL, "nats-url", env("NATS_URL", ""), "external NATS URL; empty runs the engine embedded (env TIDINGS_NATS_URL)")
	fs.StringVar(&cfg.NATSListen, "nats-listen", env("NATS_LISTEN", ""), "expose the embedded NATS on this address so other nodes can join (env TIDINGS_NATS_LISTEN)")
	fs.StringVar(&cfg.Node, "node", env("NODE", ""), "node name (env TIDINGS_NODE; default host name)")
	fs.BoolVar(&cfg.Demo, "demo", envBool("DEMO"), "create a live demo stream and widget and print how to try them (env TIDINGS_DEMO)")
	sync := fs.String("sync", env("SYNC", "default"), `durability: "default" (survives a process crash) or "always" (fsync every write; survives power loss) (env TIDINGS_SYNC)`)
	fs.IntVar(&cfg.Replicas, "replicas", int(envInt("REPLICAS", 1)), "JetStream replicas for messages and metadata, 3 in a NATS cluster (env TIDINGS_REPLICAS)")
	fs.Int64Var(&cfg.HistoryMaxMsgs, "history-max", envInt("HISTORY_MAX", 1000), "broadcasts kept per stream (env TIDINGS_HISTORY_MAX)")
	fs.DurationVar(&cfg.HistoryMaxAge, "history-max-age", envDur("HISTORY_MAX_AGE", 7*24*time.Hour), "how long messages are kept (env TIDINGS_HISTORY_MAX_AGE)")
	fs.Int64Var(&cfg.MaxBody, "max-body", envInt("MAX_BODY", 64<<10), "largest publish body in bytes (env TIDINGS_MAX_BODY)")
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", envDur("HEARTBEAT", 15*time.Second), "SSE heartbeat interval on idle streams (env TIDINGS_HEARTBEAT)")
	fs.IntVar(&cfg.QueueSize, "queue", int(envInt("QUEUE", 4096)), "events queued per subscriber before it is disconnected as too slow (env TIDINGS_QUEUE)")
	resumeBuffer := fs.Int("resume-buffer", int(envInt("RESUME_BUFFER", 256)), "newest messages per stream kept in memory so reconnecting clients resume without reading the engine; 0: none (env TIDINGS_RESUME_BUFFER)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", envDur("SHUTDOWN_TIMEOUT", 10*time.Second), "bound on graceful shutdown (env TIDINGS_SHUTDOWN_TIMEOUT)")
	webhookFlags(fs, &cfg.Webhooks, env)
	fs.Float64Var(&cfg.WritePace, "write-pace", envFloat("WRITE_PACE", 4), "under load, writers wait this many times the length of their last pass so events batch per connection; negative: never wait (env TIDINGS_WRITE_PACE)")
	fs.DurationVar(&cfg.WriteMaxDelay, "write-max-delay", envDur("WRITE_MAX_DELAY", 100*time.Millisecond), "longest such wait: the latency a busy server may add (env TIDINGS_WRITE_MAX_DELAY)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (for performance work)")
	logLevel := fs.String("log-level", env("LOG_LEVEL", "info"), "debug, info, warn or error (env TIDINGS_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	cfg.ResumeBuffer = *resumeBuffer
	if cfg.ResumeBuffer == 0 {
		cfg.ResumeBuffer = -1
	}
	switch *sync {
	case "default", "":
	case "always":
		cfg.SyncAlways = true
	default:
		return fmt.Errorf(`serve: --sync must be "default" or "always", not %q`, *sync)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(*logLevel))); err != nil {
		return fmt.Errorf("serve: --log-level: %w", err)
	}
	cfg.APIKey = getenv("TIDINGS_API_KEY")
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.Stdout = stdout

	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if getenv("GOGC") == "" {
		// The server's heap is small and short-lived garbage dominates
		// (one request, one envelope per publish): collecting less often
		// buys about a tenth more publishes per second. GOGC overrides.
		debug.SetGCPercent(400)
	}
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}
