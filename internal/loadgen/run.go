//go:build linux

package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Run performs one run against cfg.URL and returns its result. Progress
// lines go to progress when cfg.Progress is set and the run is long.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Result, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	tgt, err := resolveTarget(ctx, cfg.URL)
	if err != nil {
		return nil, err
	}
	raiseFileLimit()
	fx, err := setup(ctx, tgt, cfg.APIKey, cfg.Scenario, cfg.Streams)
	if err != nil {
		return nil, err
	}
	defer teardown(tgt, cfg.APIKey, fx)
	r := &runner{cfg: cfg, tgt: tgt, fx: fx, ticks: clockTicks(), hc: &http.Client{Timeout: 5 * time.Second}}
	if !cfg.Progress || cfg.Warmup+cfg.Duration <= 3*time.Second && cfg.Subscribers < 5000 {
		progress = nil
	}
	return r.run(ctx, progress)
}

// runner holds one run's state.
type runner struct {
	cfg    Config
	tgt    target
	fx     *fixture
	ticks  int64
	hc     *http.Client
	shards []shard
	pub    atomic.Pointer[publisher] // set when publishing starts
}

// serverState is the server seen through /proc and /debug/vars.
type serverState struct {
	proc          procSample
	procOK        bool
	goroutines    int64
	goroutinesOK  bool
	toolCPUMicros int64
	cores         [2]coreTicks // CPU 0 (server) and 1 (tool) when pinned
	coresOK       bool
}

func (r *runner) sample(ctx context.Context, withVars bool) serverState {
	var s serverState
	s.toolCPUMicros = selfCPUMicros()
	if r.cfg.ServerPID > 0 {
		p, err := readProc(r.cfg.ServerPID, r.ticks)
		s.proc, s.procOK = p, err == nil
	}
	if r.cfg.Pinned {
		c0, err0 := readCore(0)
		c1, err1 := readCore(1)
		s.cores, s.coresOK = [2]coreTicks{c0, c1}, err0 == nil && err1 == nil
	}
	if withVars {
		s.goroutines, s.goroutinesOK = serverGoroutines(ctx, r.hc, r.tgt.base)
	}
	return s
}

func (r *runner) run(ctx context.Context, progress io.Writer) (*Result, error) {
	res := &Result{Scenario: r.cfg.Scenario, Streams: r.cfg.Streams, PayloadBytes: r.cfg.Payload, RateTarget: r.cfg.Rate,
		OrderChecked: !r.cfg.MaxPublish || r.cfg.Concurrency == 1}
	before := r.sample(ctx, true)
	defer func() {
		for _, s := range r.shards {
			s.close()
		}
	}()
	if err := r.startShards(ctx); err != nil {
		return nil, err
	}
	res.Processes = len(r.shards)
	if progress != nil {
		stop := r.showProgress(progress)
		defer stop()
	}

	t0 := time.Now()
	if err := r.connect(ctx, res); err != nil {
		return nil, err
	}
	res.ConnectS = round(time.Since(t0).Seconds(), 3)
	if res.Subscribers == 0 && r.cfg.Subscribers > 0 {
		return res, fmt.Errorf("loadgen: no subscriber could connect: %s", first(res.Errors))
	}
	if err := sleep(ctx, r.cfg.Settle); err != nil {
		return nil, err
	}
	connected := r.sample(ctx, true)

	pubStart := time.Now().Add(50 * time.Millisecond)
	win := Window{Start: pubStart.Add(r.cfg.Warmup).UnixNano()}
	if r.cfg.idle() {
		win.Start = pubStart.UnixNano()
	}
	win.End = win.Start + int64(r.cfg.Duration)
	for _, s := range r.shards {
		if err := s.start(win); err != nil {
			return nil, fmt.Errorf("loadgen: start window: %w", err)
		}
	}
	// The window's edges are sampled on time, whatever the publishers do.
	var (
		sampled    sync.WaitGroup
		winSamples [2]serverState
	)
	for i, at := range []int64{win.Start, win.End} {
		sampled.Add(1)
		t := time.AfterFunc(time.Until(time.Unix(0, at)), func() {
			defer sampled.Done()
			winSamples[i] = r.sample(ctx, false)
		})
		defer t.Stop()
	}
	acked := make([]int64, len(r.fx.streams))
	if r.cfg.idle() {
		if err := sleep(ctx, time.Until(time.Unix(0, win.End))+10*time.Millisecond); err != nil {
			return nil, err
		}
	} else {
		if err := sleep(ctx, time.Until(pubStart)); err != nil {
			return nil, err
		}
		p := newPublisher(r.tgt, r.fx, r.cfg.Payload, win)
		r.pub.Store(p)
		if r.cfg.MaxPublish {
			p.runMax(ctx, r.cfg.Concurrency)
		} else {
			p.runRate(ctx, r.cfg.Rate, r.cfg.Publishers)
		}
		acked = p.ackedCounts()
		// The rate limiter stops early when its next slot is past the end.
		if err := sleep(ctx, time.Until(time.Unix(0, win.End))); err != nil {
			return nil, err
		}
	}
	groups, err := r.finish(ctx, Finish{Acked: acked, Drain: r.cfg.Drain, Stall: 3 * time.Second})
	if err != nil {
		return nil, err
	}
	sampled.Wait()
	r.summarize(res, groups, before, connected, winSamples, r.sample(ctx, false), win)
	return res, nil
}

func (r *runner) startShards(ctx context.Context) error {
	n := r.cfg.Subscribers
	gc := GroupConfig{
		Addr: r.tgt.addr, Host: r.tgt.host, Streams: r.fx.streams, ReadBuffer: r.cfg.ReadBuffer,
		ConnectConcurrency: r.cfg.ConnectConcurrency,
	}
	if r.tgt.ipv4 {
		gc.SourceAddrs = r.cfg.SourceAddrs
	}
	if n <= r.cfg.PerProcess {
		gc.To = n
		r.shards = []shard{localShard{newGroup(gc)}}
		return nil
	}
	command := r.cfg.Worker
	if len(command) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("loadgen: find own executable for workers: %w", err)
		}
		command = []string{exe, "--worker"}
	}
	k := (n + r.cfg.PerProcess - 1) / r.cfg.PerProcess
	deadline, _ := ctx.Deadline()
	for w := range k {
		gc.From, gc.To = w*n/k, (w+1)*n/k
		gc.MeasureCPU = true
		s, err := startWorker(command, gc, deadline, os.Stderr)
		if err != nil {
			return err
		}
		r.shards = append(r.shards, s)
	}
	return nil
}

// connect connects every shard at once and adds up how it went.
func (r *runner) connect(ctx context.Context, res *Result) error {
	out := make([]ConnectResult, len(r.shards))
	errs := make([]error, len(r.shards))
	var wg sync.WaitGroup
	for i, s := range r.shards {
		wg.Go(func() { out[i], errs[i] = s.connect(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var lat HistSnapshot
	for _, c := range out {
		res.Subscribers += c.Connected
		res.ConnectErrors += c.Failed
		lat = lat.Merge(c.Latency)
		if c.FirstError != "" {
			res.Errors = append(res.Errors, "connect: "+c.FirstError)
		}
	}
	res.ConnectLatency = lat.Percentiles()
	return nil
}

func (r *runner) finish(ctx context.Context, f Finish) ([]GroupResult, error) {
	out := make([]GroupResult, len(r.shards))
	errs := make([]error, len(r.shards))
	var wg sync.WaitGroup
	for i, s := range r.shards {
		wg.Go(func() { out[i], errs[i] = s.finish(ctx, f) })
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("loadgen: run exceeded its time bound: %w", ctx.Err())
	}
}
