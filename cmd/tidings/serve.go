package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/tidings/tidings/internal/server"
)

// serve parses the serve flags (each with a TIDINGS_* environment form) and
// runs a node until ctx is done.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, cpuProfile, err := parseServe(args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	if cpuProfile != "" {
		stop, err := startCPUProfile(cpuProfile)
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

// parseServe turns serve's arguments and environment into a node's Config
// and the CPU profile path ("" for none). Every flag --foo-bar also reads
// TIDINGS_FOO_BAR through the flag's own parser; a flag on the command line
// wins over its variable, and a repeatable flag adds to it. A value that
// does not parse, or a count or duration that is not positive, is an error
// rather than a silent default.
func parseServe(args []string, getenv func(string) string, stdout, stderr io.Writer) (server.Config, string, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)

	var cfg server.Config
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:8080", "HTTP listen address (env TIDINGS_LISTEN)")
	fs.StringVar(&cfg.DataDir, "data", "./data", "data directory of the embedded engine (env TIDINGS_DATA)")
	fs.StringVar(&cfg.NATSURL, "nats-url", "", "external NATS URL; empty runs the engine embedded (env TIDINGS_NATS_URL)")
	fs.StringVar(&cfg.NATSListen, "nats-listen", "", "expose the embedded NATS on this address so other nodes can join (env TIDINGS_NATS_LISTEN)")
	fs.StringVar(&cfg.Node, "node", "", "node name (env TIDINGS_NODE; default host name)")
	fs.BoolVar(&cfg.Demo, "demo", false, "create a live demo stream and widget and print how to try them (env TIDINGS_DEMO)")
	sync := fs.String("sync", "default", `durability: "default" (survives a process crash) or "always" (fsync every write; survives power loss) (env TIDINGS_SYNC)`)
	fs.IntVar(&cfg.Replicas, "replicas", 1, "JetStream replicas for messages and metadata, 3 in a NATS cluster (env TIDINGS_REPLICAS)")
	fs.Int64Var(&cfg.HistoryMaxMsgs, "history-max", 1000, "broadcasts kept per stream (env TIDINGS_HISTORY_MAX)")
	fs.DurationVar(&cfg.HistoryMaxAge, "history-max-age", 7*24*time.Hour, "how long messages are kept (env TIDINGS_HISTORY_MAX_AGE)")
	fs.Int64Var(&cfg.MaxBody, "max-body", 64<<10, "largest publish body in bytes (env TIDINGS_MAX_BODY)")
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", 15*time.Second, "SSE heartbeat interval on idle streams (env TIDINGS_HEARTBEAT)")
	fs.IntVar(&cfg.QueueSize, "queue", 4096, "events queued per subscriber before it is disconnected as too slow (env TIDINGS_QUEUE)")
	fs.IntVar(&cfg.QueueBytes, "queue-bytes", 4<<20, "bytes of events queued per subscriber before it is disconnected as too slow (env TIDINGS_QUEUE_BYTES)")
	resumeBuffer := fs.Int("resume-buffer", 256, "newest messages per stream kept in memory so reconnecting clients resume without reading the engine; 0: none (env TIDINGS_RESUME_BUFFER)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "bound on graceful shutdown (env TIDINGS_SHUTDOWN_TIMEOUT)")
	webhookFlags(fs, &cfg.Webhooks)
	fs.Float64Var(&cfg.WritePace, "write-pace", 4, "under load, writers wait this many times the length of their last pass so events batch per connection; 0 or negative: never wait (env TIDINGS_WRITE_PACE)")
	fs.DurationVar(&cfg.WriteMaxDelay, "write-max-delay", 100*time.Millisecond, "longest such wait: the latency a busy server may add (env TIDINGS_WRITE_MAX_DELAY)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (for performance work) (env TIDINGS_CPUPROFILE)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error (env TIDINGS_LOG_LEVEL)")

	if err := setFromEnv(fs, getenv); err != nil {
		return server.Config{}, "", err
	}
	if err := fs.Parse(args); err != nil {
		return server.Config{}, "", err
	}
	if fs.NArg() > 0 {
		return server.Config{}, "", fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}

	// The packages below would replace a zero or negative value with their
	// default without a word; an operator who wrote one meant something else.
	for _, c := range []struct {
		flag string
		ok   bool
		want string
	}{
		{"replicas", cfg.Replicas > 0, "positive"},
		{"history-max", cfg.HistoryMaxMsgs > 0, "positive"},
		{"history-max-age", cfg.HistoryMaxAge > 0, "positive"},
		{"max-body", cfg.MaxBody > 0, "positive"},
		{"heartbeat", cfg.Heartbeat > 0, "positive"},
		{"queue", cfg.QueueSize > 0, "positive"},
		{"queue-bytes", cfg.QueueBytes > 0, "positive"},
		{"resume-buffer", *resumeBuffer >= 0, "0 or more"},
		{"shutdown-timeout", cfg.ShutdownTimeout > 0, "positive"},
		{"webhook-attempts", cfg.Webhooks.Attempts > 0, "positive"},
		{"webhook-timeout", cfg.Webhooks.Timeout > 0, "positive"},
		{"webhook-backoff", cfg.Webhooks.Backoff > 0, "positive"},
		{"webhook-max-backoff", cfg.Webhooks.MaxBackoff > 0, "positive"},
		{"webhook-rate", cfg.Webhooks.Rate > 0, "positive"}, // false for NaN too
		{"webhook-concurrency", cfg.Webhooks.Concurrency > 0, "positive"},
		{"write-pace", !math.IsNaN(cfg.WritePace), "a number"},
		{"write-max-delay", cfg.WriteMaxDelay > 0, "positive"},
	} {
		if !c.ok {
			return server.Config{}, "", fmt.Errorf("serve: --%s (%s) must be %s, not %s", c.flag, envName(c.flag), c.want, fs.Lookup(c.flag).Value)
		}
	}
	cfg.ResumeBuffer = *resumeBuffer
	if cfg.ResumeBuffer == 0 {
		cfg.ResumeBuffer = -1 // the channel package's "none"; 0 is its default
	}
	if cfg.WritePace == 0 {
		cfg.WritePace = -1 // waiting 0 times the pass is never waiting; 0 is sse's default
	}
	switch *sync {
	case "default", "":
	case "always":
		cfg.SyncAlways = true
	default:
		return server.Config{}, "", fmt.Errorf(`serve: --sync (TIDINGS_SYNC) must be "default" or "always", not %q`, *sync)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(*logLevel))); err != nil {
		return server.Config{}, "", fmt.Errorf("serve: --log-level (TIDINGS_LOG_LEVEL): %w", err)
	}
	// Not a flag, so that the key stays out of process listings. Its length
	// is checked where it is registered (accounts.EnsureAdmin).
	cfg.APIKey = getenv("TIDINGS_API_KEY")
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.Stdout = stdout
	return cfg, *cpuProfile, nil
}

// envName is the environment form of the serve flag name: "max-body" is
// read from TIDINGS_MAX_BODY.
func envName(flag string) string {
	return "TIDINGS_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// setFromEnv sets every flag of fs whose variable is set and not empty, so
// that fs.Parse then lets the command line override it.
func setFromEnv(fs *flag.FlagSet, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		v := getenv(name)
		if v == "" || err != nil {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = fmt.Errorf("serve: %s=%q: %w", name, v, parseCause(f, v, e))
		}
	})
	return err
}

// parseCause explains why v is not a value of f. The flag package's own
// types say only "parse error"; parsing again says what is wrong, such as
// a duration without a unit.
func parseCause(f *flag.Flag, v string, err error) error {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return err
	}
	var cause error
	switch g.Get().(type) {
	case bool:
		_, cause = strconv.ParseBool(v)
	case int, int64:
		_, cause = strconv.ParseInt(v, 0, 64)
	case uint, uint64:
		_, cause = strconv.ParseUint(v, 0, 64)
	case float64:
		_, cause = strconv.ParseFloat(v, 64)
	case time.Duration:
		_, cause = time.ParseDuration(v)
	}
	if cause == nil {
		return err
	}
	return cause
}
