//go:build linux

package loadgen

import (
	"errors"
	"fmt"
	"time"
)

// Bounds on what one run may ask for: the tool is for loopback benchmarks,
// not for flooding.
const (
	MaxSubscribers = 100_000
	MaxRate        = 1_000_000 // msg/s
	MaxPayload     = 1 << 20
	MaxDuration    = time.Hour
)

// Config is one run. Zero values get the defaults noted.
type Config struct {
	Scenario string // name in the report (default "custom")
	URL      string // server base URL; loopback only
	APIKey   string // for /v1 setup calls

	Subscribers int     // SSE connections
	Streams     int     // streams they are spread over (default 1)
	Rate        float64 // total publishes/s over all streams; 0 with !MaxPublish: idle run
	Payload     int     // bytes of each message (default 100)
	Publishers  int     // publishing goroutines in rate mode (default 8, at most one per stream)
	MaxPublish  bool    // publish as fast as acknowledged, Concurrency requests in flight
	Concurrency int     // in-flight publishes in MaxPublish mode (default 32)

	Warmup   time.Duration // publishing before the measured window (default 2s)
	Duration time.Duration // the measured window; for idle runs, how long to hold (default 10s)
	Drain    time.Duration // bound on waiting for deliveries after publishing (default 30s)
	Settle   time.Duration // pause after connecting, before measuring (default 1s)
	Timeout  time.Duration // hard bound on the whole run (default: the phases + 2 min)

	SourceAddrs        int      // loopback source addresses for subscribers (default 8)
	ReadBuffer         int      // bytes per subscriber connection (default 16 KiB)
	ConnectConcurrency int      // connections being opened at once, per process (default 64)
	PerProcess         int      // subscribers per process; above it, worker processes (default 9000)
	Worker             []string // command that runs a worker (default: this executable with --worker)

	ServerPID int  // server process to measure through /proc; 0: none
	Pinned    bool // the server runs on CPU 0 and the tool on CPU 1: report both cores' use

	Progress bool // print a progress line every second on long runs
}

func (c *Config) defaults() {
	if c.Scenario == "" {
		c.Scenario = "custom"
	}
	if c.Streams <= 0 {
		c.Streams = 1
	}
	if c.Payload <= 0 {
		c.Payload = 100
	}
	if c.Publishers <= 0 {
		c.Publishers = 8
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 32
	}
	if c.Warmup < 0 {
		c.Warmup = 0
	} else if c.Warmup == 0 {
		c.Warmup = 2 * time.Second
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Drain <= 0 {
		// Generous: the wait ends as soon as everything has arrived.
		c.Drain = 30 * time.Second
	}
	if c.Settle <= 0 {
		c.Settle = time.Second
	}
	if c.SourceAddrs <= 0 {
		c.SourceAddrs = 8
	}
	if c.ReadBuffer <= 0 {
		c.ReadBuffer = 16 << 10
	}
	// A line must fit before the buffer would have to grow.
	c.ReadBuffer = max(c.ReadBuffer, 2*c.Payload+1024)
	if c.ConnectConcurrency <= 0 {
		c.ConnectConcurrency = 64
	}
	if c.PerProcess <= 0 {
		c.PerProcess = 9000
	}
	if c.Timeout <= 0 {
		// Connecting is budgeted at 1 ms per subscriber plus a minute.
		connect := time.Duration(c.Subscribers)*time.Millisecond + time.Minute
		c.Timeout = connect + c.Settle + c.Warmup + c.Duration + c.Drain + 2*time.Minute
	}
}

// idle reports whether the run only holds connections open.
func (c *Config) idle() bool { return c.Rate == 0 && !c.MaxPublish }

func (c *Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.URL == "" {
		bad("no server URL: give --url, or --spawn to start one")
	}
	if c.Subscribers < 0 || c.Subscribers > MaxSubscribers {
		bad("subscribers must be 0…%d, not %d", MaxSubscribers, c.Subscribers)
	}
	if c.Streams > max(c.Subscribers, 1) && c.Subscribers > 0 {
		bad("more streams (%d) than subscribers (%d)", c.Streams, c.Subscribers)
	}
	if c.Streams > 10_000 {
		bad("streams must be at most 10000, not %d", c.Streams)
	}
	if c.Rate < 0 || c.Rate > MaxRate {
		bad("rate must be 0…%d msg/s, not %g", MaxRate, c.Rate)
	}
	if c.Payload > MaxPayload {
		bad("payload must be at most %d bytes, not %d", MaxPayload, c.Payload)
	}
	if c.Concurrency > 1024 {
		bad("concurrency must be at most 1024, not %d", c.Concurrency)
	}
	if c.Warmup+c.Duration+c.Drain > MaxDuration || c.Timeout > 2*MaxDuration {
		bad("warm-up, duration and drain must add up to at most %v", MaxDuration)
	}
	if c.SourceAddrs > 250 {
		bad("source-addrs must be at most 250 (127.0.0.2 … 127.0.0.251), not %d", c.SourceAddrs)
	}
	return errors.Join(errs...)
}
