//go:build linux

package loadgen

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// GroupConfig is what one process needs to run its share of the
// subscribers: global indices [From, To), subscriber i on Streams[i%len].
type GroupConfig struct {
	Addr               string        `json:"addr"` // server ip:port
	Host               string        `json:"host"` // Host header
	Streams            []int64       `json:"streams"`
	From               int           `json:"from"`
	To                 int           `json:"to"`
	SourceAddrs        int           `json:"source_addrs"` // 127.0.0.2 … 127.0.0.(1+n); 0: let the kernel pick
	ReadBuffer         int           `json:"read_buffer"`
	ConnectConcurrency int           `json:"connect_concurrency"`
	ConnectTimeout     time.Duration `json:"connect_timeout"`
	MeasureCPU         bool          `json:"measure_cpu"` // report this process's CPU over the window
}

// Window is the measured publish window, in unix nanoseconds.
type Window struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// Finish tells a group how many publishes each stream had acknowledged and
// how long to wait for them to arrive.
type Finish struct {
	Acked []int64       `json:"acked"`
	Drain time.Duration `json:"drain"`
	Stall time.Duration `json:"stall"` // give up earlier when nothing arrives for this long
}

// ConnectResult is how connecting a group's subscribers went.
type ConnectResult struct {
	Connected  int          `json:"connected"`
	Failed     int          `json:"failed"`
	FirstError string       `json:"first_error,omitempty"`
	Latency    HistSnapshot `json:"latency"` // per-connection time to init
}

// GroupResult is a group's accounting after Finish.
type GroupResult struct {
	Expected    int64        `json:"expected"`
	Received    int64        `json:"received"` // unique deliveries
	Lost        int64        `json:"lost"`
	Duplicated  int64        `json:"duplicated"`
	OutOfOrder  int64        `json:"out_of_order"`
	InWindow    int64        `json:"in_window"`
	Disconnects int64        `json:"disconnects"`
	FirstDrop   string       `json:"first_drop,omitempty"`
	Latency     HistSnapshot `json:"latency"`
	CPUMicros   int64        `json:"cpu_us"` // over the window, when measured
}

// group is the subscribers of one process.
type group struct {
	cfg       GroupConfig
	sink      *sink
	pollers   []*poller
	subs      []*subscriber
	connected atomic.Int64
	cpu       [2]atomic.Int64 // process CPU µs at window start and end
	closeOnce sync.Once
}

func newGroup(cfg GroupConfig) *group {
	if cfg.ReadBuffer <= 0 {
		cfg.ReadBuffer = 16 << 10
	}
	if cfg.ConnectConcurrency <= 0 {
		cfg.ConnectConcurrency = 64
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 30 * time.Second
	}
	return &group{cfg: cfg, sink: newSink()}
}

// sourceIP is the loopback address subscriber i dials from: spreading them
// keeps each (source address, port) space far from exhaustion.
func sourceIP(i, n int) net.IP {
	if n <= 0 {
		return nil
	}
	return net.IPv4(127, 0, 0, byte(2+i%min(n, 250)))
}

// connect opens every subscription, at most ConnectConcurrency at a time,
// and starts reading each as soon as it has its init. Pollers are one per
// CPU the process may use.
func (g *group) connect(ctx context.Context) (ConnectResult, error) {
	var res ConnectResult
	addr, err := net.ResolveTCPAddr("tcp", g.cfg.Addr)
	if err != nil {
		return res, fmt.Errorf("loadgen: server address: %w", err)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return res, err
	}
	for range max(1, runtime.GOMAXPROCS(0)) {
		p, err := newPoller(int(min(lim.Cur, 1<<22)))
		if err != nil {
			return res, err
		}
		g.pollers = append(g.pollers, p)
	}
	var (
		mu  sync.Mutex
		lat Histogram
		sem = make(chan struct{}, g.cfg.ConnectConcurrency)
	)
	g.subs = make([]*subscriber, 0, g.cfg.To-g.cfg.From)
	failed := func(err error) {
		res.Failed++
		if res.FirstError == "" {
			res.FirstError = err.Error()
		}
	}
dial:
	for i := g.cfg.From; i < g.cfg.To; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			mu.Lock()
			failed(ctx.Err())
			res.Failed += g.cfg.To - i - 1
			mu.Unlock()
			break dial
		}
		stream := i % len(g.cfg.Streams)
		spec := dialSpec{
			addr: addr, host: g.cfg.Host, local: sourceIP(i, g.cfg.SourceAddrs),
			path:    "/subscribe/" + strconv.FormatInt(g.cfg.Streams[stream], 10),
			bufSize: g.cfg.ReadBuffer, timeout: g.cfg.ConnectTimeout,
		}
		p := g.pollers[i%len(g.pollers)]
		go func() {
			defer func() { <-sem }()
			t0 := time.Now()
			s, err := dialSubscriber(spec, g.sink, stream)
			if err == nil {
				lat.Record(int64(time.Since(t0)))
				if err = p.add(s); err != nil {
					s.closeFD()
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed(err)
				return
			}
			g.subs = append(g.subs, s)
			g.connected.Add(1)
		}()
	}
	for range cap(sem) {
		sem <- struct{}{}
	}
	res.Connected = len(g.subs)
	res.Latency = lat.Snapshot()
	return res, nil
}

// start sets the measured window; deliveries are timed and counted
// against it from now on.
func (g *group) start(w Window) {
	g.sink.winStart.Store(w.Start)
	g.sink.winEnd.Store(w.End)
	if !g.cfg.MeasureCPU {
		return
	}
	for i, at := range []int64{w.Start, w.End} {
		time.AfterFunc(time.Until(time.Unix(0, at)), func() { g.cpu[i].Store(selfCPUMicros()) })
	}
}

func (g *group) progress() (connected, received int64) {
	return g.connected.Load(), g.sink.received.Load()
}

// finish waits (bounded) for the acknowledged publishes to arrive, closes
// every connection and adds up the subscribers' accounts.
func (g *group) finish(ctx context.Context, f Finish) GroupResult {
	var want int64
	for _, s := range g.subs {
		want += f.Acked[s.stream]
	}
	deadline := time.Now().Add(f.Drain)
	last, lastChange := g.sink.received.Load(), time.Now()
	for ctx.Err() == nil && time.Now().Before(deadline) {
		got := g.sink.received.Load()
		if got >= want {
			break
		}
		if got != last {
			last, lastChange = got, time.Now()
		} else if f.Stall > 0 && time.Since(lastChange) > f.Stall {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	g.shutdown()
	r := GroupResult{
		InWindow:    g.sink.inWindow.Load(),
		Disconnects: g.sink.disconnects.Load(),
		Latency:     g.sink.hist.Snapshot(),
	}
	for _, s := range g.subs {
		exp := f.Acked[s.stream]
		r.Expected += exp
		r.Received += s.tr.unique
		r.Lost += s.tr.lost(exp)
		r.Duplicated += s.tr.dups
		r.OutOfOrder += s.tr.ooo
		if s.err != nil && r.FirstDrop == "" {
			r.FirstDrop = s.err.Error()
		}
	}
	if g.cfg.MeasureCPU {
		r.CPUMicros = max(0, g.cpu[1].Load()-g.cpu[0].Load())
	}
	return r
}

// shutdown stops reading and closes every connection; it is idempotent.
// Only after it may the subscribers' accounts be read.
func (g *group) shutdown() {
	g.closeOnce.Do(func() {
		g.sink.closing.Store(true)
		for _, p := range g.pollers {
			p.close()
		}
		for _, s := range g.subs {
			s.closeFD()
		}
	})
}
