package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/server"
)

// defaultConfig is what parseServe returns with no flags and no
// environment, less the logger and stdout.
func defaultConfig() server.Config {
	return server.Config{
		Listen: "127.0.0.1:8080", DataDir: "./data",
		Replicas: 1, HistoryMaxMsgs: 1000, HistoryMaxAge: 7 * 24 * time.Hour,
		MaxBody: 64 << 10, Heartbeat: 15 * time.Second, QueueSize: 4096, QueueBytes: 4 << 20, ResumeBuffer: 256,
		ShutdownTimeout: 10 * time.Second, WritePace: 4, WriteMaxDelay: 100 * time.Millisecond,
		Webhooks: server.WebhookConfig{Attempts: 5, Timeout: 10 * time.Second, Backoff: time.Second, MaxBackoff: 10 * time.Minute, Rate: 10, Concurrency: 32},
	}
}

func fakeEnv(env map[string]string) func(string) string {
	return func(name string) string { return env[name] }
}

func TestParseServe(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(c *server.Config) // applied to defaultConfig
		cpu  string
	}{
		{name: "defaults"},
		{name: "env string", env: map[string]string{"TIDINGS_LISTEN": ":9090", "TIDINGS_NATS_URL": "nats://n:4222"},
			want: func(c *server.Config) { c.Listen, c.NATSURL = ":9090", "nats://n:4222" }},
		{name: "env empty is unset", env: map[string]string{"TIDINGS_LISTEN": "", "TIDINGS_HEARTBEAT": ""}},
		{name: "env int", env: map[string]string{"TIDINGS_MAX_BODY": "1024", "TIDINGS_REPLICAS": "3", "TIDINGS_HISTORY_MAX": "0x10"},
			want: func(c *server.Config) { c.MaxBody, c.Replicas, c.HistoryMaxMsgs = 1024, 3, 16 }},
		{name: "env bool", env: map[string]string{"TIDINGS_DEMO": "true", "TIDINGS_WEBHOOK_ALLOW_HTTP": "1", "TIDINGS_WEBHOOK_ALLOW_PRIVATE": "false"},
			want: func(c *server.Config) { c.Demo, c.Webhooks.AllowHTTP = true, true }},
		{name: "env duration", env: map[string]string{"TIDINGS_HEARTBEAT": "5s", "TIDINGS_HISTORY_MAX_AGE": "1h30m", "TIDINGS_WEBHOOK_BACKOFF": "250ms"},
			want: func(c *server.Config) {
				c.Heartbeat, c.HistoryMaxAge, c.Webhooks.Backoff = 5*time.Second, 90*time.Minute, 250*time.Millisecond
			}},
		{name: "env float", env: map[string]string{"TIDINGS_WEBHOOK_RATE": "2.5", "TIDINGS_WRITE_PACE": "-1"},
			want: func(c *server.Config) { c.Webhooks.Rate, c.WritePace = 2.5, -1 }},
		{name: "env repeatable", env: map[string]string{"TIDINGS_WEBHOOK_ALLOW_ADDR": "10.0.0.1:80, 10.0.0.2:81,"},
			want: func(c *server.Config) { c.Webhooks.AllowAddrs = []string{"10.0.0.1:80", "10.0.0.2:81"} }},
		{name: "repeatable flag adds to env", env: map[string]string{"TIDINGS_WEBHOOK_ALLOW_ADDR": "10.0.0.1:80"},
			args: []string{"--webhook-allow-addr", "10.0.0.2:81", "--webhook-allow-addr=10.0.0.3:82,10.0.0.4:83"},
			want: func(c *server.Config) {
				c.Webhooks.AllowAddrs = []string{"10.0.0.1:80", "10.0.0.2:81", "10.0.0.3:82", "10.0.0.4:83"}
			}},
		{name: "env sync", env: map[string]string{"TIDINGS_SYNC": "always"},
			want: func(c *server.Config) { c.SyncAlways = true }},
		{name: "env cpuprofile", env: map[string]string{"TIDINGS_CPUPROFILE": "cpu.out"}, cpu: "cpu.out"},
		{name: "api key", env: map[string]string{"TIDINGS_API_KEY": "0123456789abcdef"},
			want: func(c *server.Config) { c.APIKey = "0123456789abcdef" }},
		{name: "flag overrides env",
			env:  map[string]string{"TIDINGS_HEARTBEAT": "5s", "TIDINGS_DEMO": "true", "TIDINGS_MAX_BODY": "1024", "TIDINGS_LISTEN": ":9090"},
			args: []string{"--heartbeat", "1m", "--demo=false", "--max-body", "2048", "--listen", ":7070"},
			want: func(c *server.Config) { c.Heartbeat, c.MaxBody, c.Listen = time.Minute, 2048, ":7070" }},
		{name: "flags", args: []string{"--data", "/var/tidings", "--node", "n1", "--queue", "10", "--webhook-attempts", "2", "--cpuprofile", "p"},
			want: func(c *server.Config) {
				c.DataDir, c.Node, c.QueueSize, c.Webhooks.Attempts = "/var/tidings", "n1", 10, 2
			},
			cpu: "p"},
		{name: "resume buffer 0 is none", args: []string{"--resume-buffer", "0"},
			want: func(c *server.Config) { c.ResumeBuffer = -1 }},
		{name: "write pace negative", args: []string{"--write-pace", "-0.5"},
			want: func(c *server.Config) { c.WritePace = -0.5 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cpu, err := parseServe(tt.args, fakeEnv(tt.env), io.Discard, io.Discard)
			if err != nil {
				t.Fatalf("parseServe: %v", err)
			}
			if got.Logger == nil || got.Stdout == nil {
				t.Errorf("got Logger %v, Stdout %v; want both set", got.Logger, got.Stdout)
			}
			got.Logger, got.Stdout = nil, nil
			want := defaultConfig()
			if tt.want != nil {
				tt.want(&want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v; want %+v", got, want)
			}
			if cpu != tt.cpu {
				t.Errorf("got cpuprofile %q; want %q", cpu, tt.cpu)
			}
		})
	}
}

func TestParseServeErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // the whole error
	}{
		{"env bool", nil, map[string]string{"TIDINGS_DEMO": "yes"},
			`serve: TIDINGS_DEMO="yes": strconv.ParseBool: parsing "yes": invalid syntax`},
		{"env int", nil, map[string]string{"TIDINGS_MAX_BODY": "64KiB"},
			`serve: TIDINGS_MAX_BODY="64KiB": strconv.ParseInt: parsing "64KiB": invalid syntax`},
		{"env int out of range", nil, map[string]string{"TIDINGS_QUEUE": "99999999999999999999"},
			`serve: TIDINGS_QUEUE="99999999999999999999": strconv.ParseInt: parsing "99999999999999999999": value out of range`},
		{"env duration", nil, map[string]string{"TIDINGS_HEARTBEAT": "15"},
			`serve: TIDINGS_HEARTBEAT="15": time: missing unit in duration "15"`},
		{"env float", nil, map[string]string{"TIDINGS_WEBHOOK_RATE": "fast"},
			`serve: TIDINGS_WEBHOOK_RATE="fast": strconv.ParseFloat: parsing "fast": invalid syntax`},
		{"bad env although the flag is given", []string{"--heartbeat", "5s"}, map[string]string{"TIDINGS_HEARTBEAT": "15"},
			`serve: TIDINGS_HEARTBEAT="15": time: missing unit in duration "15"`},
		{"env sync", nil, map[string]string{"TIDINGS_SYNC": "sometimes"},
			`serve: --sync (TIDINGS_SYNC) must be "default" or "always", not "sometimes"`},
		{"env log level", nil, map[string]string{"TIDINGS_LOG_LEVEL": "loud"},
			`serve: --log-level (TIDINGS_LOG_LEVEL): slog: level string "LOUD": unknown name`},
		{"argument", []string{"now"}, nil, `serve: unexpected argument "now"`},
		{"flag", []string{"--heartbeat", "15"}, nil, `invalid value "15" for flag -heartbeat: parse error`},
		{"env negative", nil, map[string]string{"TIDINGS_QUEUE": "-1"},
			`serve: --queue (TIDINGS_QUEUE) must be positive, not -1`},
		{"replicas", []string{"--replicas", "0"}, nil, `serve: --replicas (TIDINGS_REPLICAS) must be positive, not 0`},
		{"history-max", []string{"--history-max", "0"}, nil, `serve: --history-max (TIDINGS_HISTORY_MAX) must be positive, not 0`},
		{"history-max-age", []string{"--history-max-age", "0s"}, nil, `serve: --history-max-age (TIDINGS_HISTORY_MAX_AGE) must be positive, not 0s`},
		{"max-body", []string{"--max-body", "-1"}, nil, `serve: --max-body (TIDINGS_MAX_BODY) must be positive, not -1`},
		{"heartbeat", []string{"--heartbeat", "-1s"}, nil, `serve: --heartbeat (TIDINGS_HEARTBEAT) must be positive, not -1s`},
		{"queue", []string{"--queue", "0"}, nil, `serve: --queue (TIDINGS_QUEUE) must be positive, not 0`},
		{"resume-buffer", []string{"--resume-buffer", "-1"}, nil, `serve: --resume-buffer (TIDINGS_RESUME_BUFFER) must be 0 or more, not -1`},
		{"shutdown-timeout", []string{"--shutdown-timeout", "0s"}, nil, `serve: --shutdown-timeout (TIDINGS_SHUTDOWN_TIMEOUT) must be positive, not 0s`},
		{"webhook-timeout", []string{"--webhook-timeout", "0s"}, nil, `serve: --webhook-timeout (TIDINGS_WEBHOOK_TIMEOUT) must be positive, not 0s`},
		{"webhook-attempts", []string{"--webhook-attempts", "0"}, nil, `serve: --webhook-attempts (TIDINGS_WEBHOOK_ATTEMPTS) must be positive, not 0`},
		{"webhook-backoff", []string{"--webhook-backoff", "-5ms"}, nil, `serve: --webhook-backoff (TIDINGS_WEBHOOK_BACKOFF) must be positive, not -5ms`},
		{"webhook-max-backoff", []string{"--webhook-max-backoff", "0s"}, nil, `serve: --webhook-max-backoff (TIDINGS_WEBHOOK_MAX_BACKOFF) must be positive, not 0s`},
		{"webhook-rate", []string{"--webhook-rate", "0"}, nil, `serve: --webhook-rate (TIDINGS_WEBHOOK_RATE) must be positive, not 0`},
		{"webhook-rate NaN", []string{"--webhook-rate", "NaN"}, nil, `serve: --webhook-rate (TIDINGS_WEBHOOK_RATE) must be positive, not NaN`},
		{"webhook-concurrency", []string{"--webhook-concurrency", "-2"}, nil, `serve: --webhook-concurrency (TIDINGS_WEBHOOK_CONCURRENCY) must be positive, not -2`},
		{"write-max-delay", []string{"--write-max-delay", "0s"}, nil, `serve: --write-max-delay (TIDINGS_WRITE_MAX_DELAY) must be positive, not 0s`},
		{"write-pace NaN", []string{"--write-pace", "NaN"}, nil, `serve: --write-pace (TIDINGS_WRITE_PACE) must be a number, not NaN`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseServe(tt.args, fakeEnv(tt.env), io.Discard, io.Discard)
			if err == nil {
				t.Fatalf("got no error; want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

func TestParseServeLogLevel(t *testing.T) {
	tests := []struct {
		args  []string
		env   map[string]string
		debug bool
		info  bool
	}{
		{nil, nil, false, true},
		{nil, map[string]string{"TIDINGS_LOG_LEVEL": "debug"}, true, true},
		{[]string{"--log-level", "warn"}, map[string]string{"TIDINGS_LOG_LEVEL": "debug"}, false, false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " ")+" "+tt.env["TIDINGS_LOG_LEVEL"], func(t *testing.T) {
			cfg, _, err := parseServe(tt.args, fakeEnv(tt.env), io.Discard, io.Discard)
			if err != nil {
				t.Fatalf("parseServe: %v", err)
			}
			ctx := context.Background()
			if got := cfg.Logger.Enabled(ctx, slog.LevelDebug); got != tt.debug {
				t.Errorf("got debug enabled %v; want %v", got, tt.debug)
			}
			if got := cfg.Logger.Enabled(ctx, slog.LevelInfo); got != tt.info {
				t.Errorf("got info enabled %v; want %v", got, tt.info)
			}
		})
	}
}

// TestServeHelpNamesEnv keeps each flag's help in step with the variable
// it is read from.
func TestServeHelpNamesEnv(t *testing.T) {
	var help strings.Builder
	_, _, err := parseServe([]string{"-h"}, fakeEnv(nil), io.Discard, &help)
	if err != flag.ErrHelp {
		t.Fatalf("got %v; want %v", err, flag.ErrHelp)
	}
	// PrintDefaults writes "  -name type" and then the text, indented.
	usage := map[string]string{}
	var name string
	for line := range strings.Lines(help.String()) {
		if f, ok := strings.CutPrefix(line, "  -"); ok {
			name = strings.Fields(f)[0]
		} else if name != "" {
			usage[name] += strings.TrimSpace(line) + " "
		}
	}
	if len(usage) == 0 {
		t.Fatalf("got no flags in %q", help.String())
	}
	for name, text := range usage {
		if want := "(env " + envName(name); !strings.Contains(text, want) {
			t.Errorf("got help for -%s %q; want it to name %s", name, text, envName(name))
		}
	}
}
