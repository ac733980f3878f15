//go:build linux

// Command tidings-bench is Tidings' load tool: it drives a running (or
// spawned) server on loopback over the wire protocol and prints one JSON
// line of figures on stdout and a table on stderr. See docs/loadtool.md.
//
//	tidings-bench --spawn --pin --scenario A
//	tidings-bench --url http://127.0.0.1:8080 --subscribers 500 --rate 100
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/tidings/tidings/internal/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tidings-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tidings-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg         loadgen.Config
		scenario    = fs.String("scenario", "", "preset to run (see --list); other flags override its values")
		list        = fs.Bool("list", false, "list the scenarios and exit")
		worker      = fs.Bool("worker", false, "internal: run as a worker process of a parent run")
		spawn       = fs.Bool("spawn", false, "build and start a server for this run (fresh data dir, random API key)")
		serverBin   = fs.String("server-bin", "", "with --spawn: tidings binary to run (default: go build ./cmd/tidings)")
		serverFlags = fs.String("server-flags", "", `with --spawn: extra serve flags, space separated, e.g. "--sync always"`)
		serverLog   = fs.String("server-log", "", "with --spawn: file for the server's output (default: discarded)")
		pin         = fs.Bool("pin", false, "pin the tool to CPU 1 and, with --spawn, the server to CPU 0 (without --spawn, pin the server yourself) with taskset")
		quiet       = fs.Bool("quiet", false, "no progress lines and no table: only the JSON line")
		cpuProfile  = fs.String("cpuprofile", "", "write the tool's own CPU profile (parent process) to this file")
	)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	fs.StringVar(&cfg.APIKey, "api-key", getenv("TIDINGS_API_KEY"), "application key for creating streams (env TIDINGS_API_KEY)")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "pid of the server, to read its CPU and memory from /proc (automatic with --spawn)")
	fs.IntVar(&cfg.Subscribers, "subscribers", 100, "SSE subscribers")
	fs.IntVar(&cfg.Streams, "streams", 1, "streams the subscribers are spread over")
	fs.Float64Var(&cfg.Rate, "rate", 10, "publishes per second over all streams; 0: idle run")
	fs.IntVar(&cfg.Payload, "payload", 100, "bytes per message")
	fs.IntVar(&cfg.Publishers, "publishers", 8, "publishing goroutines (at most one per stream)")
	fs.BoolVar(&cfg.MaxPublish, "max-publish", false, "publish as fast as the server acknowledges (publish-path scenarios)")
	fs.IntVar(&cfg.Concurrency, "concurrency", 32, "with --max-publish: requests in flight")
	fs.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "publishing before the measured window (negative: none)")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured window (idle runs: how long to hold the connections)")
	fs.DurationVar(&cfg.Drain, "drain", 30*time.Second, "bound on waiting for the last deliveries (ends when all have arrived)")
	fs.DurationVar(&cfg.Settle, "settle", time.Second, "pause between connecting and measuring")
	fs.DurationVar(&cfg.Timeout, "timeout", 0, "hard bound on the whole run (default: the phases plus a margin)")
	fs.IntVar(&cfg.SourceAddrs, "source-addrs", 8, "subscribers dial from 127.0.0.2 … 127.0.0.(1+n)")
	fs.IntVar(&cfg.ReadBuffer, "read-buffer", 16<<10, "read buffer per subscriber, bytes")
	fs.IntVar(&cfg.ConnectConcurrency, "connect-concurrency", 64, "connections being opened at once, per process")
	fs.IntVar(&cfg.PerProcess, "per-process", 9000, "subscribers per process; more start worker processes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *worker {
		return loadgen.Worker(ctx, stdin, stdout)
	}
	if *list {
		for _, s := range loadgen.Scenarios() {
			fmt.Fprintf(stdout, "%-11s %s\n", s.Name, s.Description)
		}
		return nil
	}
	extra := strings.Fields(*serverFlags)
	if *scenario != "" {
		sc, err := loadgen.LookupScenario(*scenario)
		if err != nil {
			return err
		}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		cfg = overlay(sc.Config, cfg, set)
		if !set["server-flags"] {
			extra = sc.ServerFlags
		}
		if len(sc.ServerFlags) > 0 && !*spawn {
			fmt.Fprintf(stderr, "note: scenario %s expects a server started with %q\n", sc.Name, strings.Join(sc.ServerFlags, " "))
		}
	}
	if *pin {
		if err := loadgen.PinSelf(1); err != nil { // returns only on failure
			return err
		}
	}
	if *spawn {
		log := io.Discard
		if *serverLog != "" {
			f, err := os.Create(*serverLog)
			if err != nil {
				return err
			}
			defer f.Close()
			log = f
		}
		pinCPU := -1
		if *pin {
			pinCPU = 0
		}
		srv, err := loadgen.Spawn(ctx, loadgen.SpawnConfig{Bin: *serverBin, Flags: extra, PinCPU: pinCPU, Log: log})
		if err != nil {
			return err
		}
		defer srv.Stop()
		cfg.URL, cfg.APIKey, cfg.ServerPID = srv.URL, srv.APIKey, srv.PID
		fmt.Fprintf(stderr, "server pid %d on %s %s\n", srv.PID, srv.URL, strings.Join(extra, " "))
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	cfg.Pinned = *pin
	cfg.Progress = !*quiet
	res, err := loadgen.Run(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	if !*quiet {
		_ = res.WriteTable(stderr)
	}
	return res.WriteJSON(stdout)
}

// overlay returns the preset with the values of the flags given on the
// command line taken from cmd.
func overlay(preset, cmd loadgen.Config, set map[string]bool) loadgen.Config {
	out := preset
	out.URL, out.APIKey, out.ServerPID = cmd.URL, cmd.APIKey, cmd.ServerPID
	for name, field := range map[string]func(){
		"subscribers": func() { out.Subscribers = cmd.Subscribers }, "streams": func() { out.Streams = cmd.Streams },
		"rate": func() { out.Rate = cmd.Rate }, "payload": func() { out.Payload = cmd.Payload },
		"publishers": func() { out.Publishers = cmd.Publishers }, "max-publish": func() { out.MaxPublish = cmd.MaxPublish },
		"concurrency": func() { out.Concurrency = cmd.Concurrency }, "warmup": func() { out.Warmup = cmd.Warmup },
		"duration": func() { out.Duration = cmd.Duration }, "drain": func() { out.Drain = cmd.Drain },
		"settle": func() { out.Settle = cmd.Settle }, "timeout": func() { out.Timeout = cmd.Timeout },
		"source-addrs": func() { out.SourceAddrs = cmd.SourceAddrs }, "read-buffer": func() { out.ReadBuffer = cmd.ReadBuffer },
		"connect-concurrency": func() { out.ConnectConcurrency = cmd.ConnectConcurrency }, "per-process": func() { out.PerProcess = cmd.PerProcess },
	} {
		if set[name] {
			field()
		}
	}
	return out
}
