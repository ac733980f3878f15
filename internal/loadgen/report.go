//go:build linux

package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
	"time"
)

// Result is one run's figures. Fields that need the server's pid, or a
// delivery to divide by, are null when not known.
type Result struct {
	Scenario    string `json:"scenario"`
	Subscribers int    `json:"subscribers"` // connected
	Expected    int64  `json:"expected"`
	Received    int64  `json:"received"` // unique deliveries
	Lost        int64  `json:"lost"`
	Duplicated  int64  `json:"duplicated"`
	OutOfOrder  int64  `json:"out_of_order"`
	// OrderChecked is false when a stream can have several publishes in
	// flight (max-publish runs with concurrency above 1): their send order is then not the order they are
	// stored in, so out_of_order counts that interleaving, not reordering
	// by the server, and is left out of Clean.
	OrderChecked           bool        `json:"order_checked"`
	Latency                Percentiles `json:"latency_us"` // of messages sent inside the window
	DeliveriesPerS         float64     `json:"deliveries_per_s"`
	ConnectS               float64     `json:"connect_s"`
	ServerCPUS             *float64    `json:"server_cpu_s"` // over the window
	ServerPeakRSSKiB       *int64      `json:"server_peak_rss_kib"`
	ServerCPUUSPerDelivery *float64    `json:"server_cpu_us_per_delivery"`
	RSSKiBPerConn          *float64    `json:"rss_kib_per_conn"`
	ToolCPUUSPerDelivery   *float64    `json:"tool_cpu_us_per_delivery"`

	Streams               int          `json:"streams"`
	Processes             int          `json:"processes"` // tool processes holding subscribers
	PayloadBytes          int          `json:"payload_bytes"`
	RateTarget            float64      `json:"rate_target"` // msg/s; 0 for idle and max-publish runs
	WindowS               float64      `json:"window_s"`
	Published             int64        `json:"published"` // acknowledged, warm-up included
	PublishErrors         int64        `json:"publish_errors"`
	PublishedPerS         float64      `json:"published_per_s"` // acknowledged, inside the window
	PublishLatency        *Percentiles `json:"publish_latency_us,omitempty"`
	ServerCPUUSPerPublish *float64     `json:"server_cpu_us_per_publish"` // max-publish runs only
	ConnectErrors         int          `json:"connect_errors"`
	ConnectLatency        Percentiles  `json:"connect_latency_us"`
	Disconnects           int64        `json:"disconnects"` // connections the server closed during the run
	ServerRSSBeforeKiB    *int64       `json:"server_rss_before_kib"`
	ServerRSSConnectedKiB *int64       `json:"server_rss_connected_kib"`
	GoroutinesPerConn     *float64     `json:"goroutines_per_conn"`  // from /debug/vars; null if not exposed
	ToolCPUS              float64      `json:"tool_cpu_s"`           // over the window, all tool processes
	ServerCoreBusyPct     *float64     `json:"server_core_busy_pct"` // CPU 0 when pinned, softirq included
	ServerCoreSoftirqPct  *float64     `json:"server_core_softirq_pct"`
	ToolCoreBusyPct       *float64     `json:"tool_core_busy_pct"` // CPU 1 when pinned
	OtherLoadPct          *float64     `json:"other_load_pct"`     // busy time on either core not explained by server, tool or softirq
	Errors                []string     `json:"errors,omitempty"`   // first of each kind

	toolSaturated bool // CPU 1 had no idle time left for the tool
}

// Clean reports whether every expected delivery arrived exactly once and in
// order, with no connection failing.
func (r *Result) Clean() bool {
	return r.Lost == 0 && r.Duplicated == 0 && (r.OutOfOrder == 0 || !r.OrderChecked) && r.Received == r.Expected &&
		r.ConnectErrors == 0 && r.Disconnects == 0 && r.PublishErrors == 0
}

func (r *runner) summarize(res *Result, groups []GroupResult, before, connected serverState, win [2]serverState, end serverState, w Window) {
	var lat HistSnapshot
	var inWindow, toolCPU int64
	for _, g := range groups {
		res.Expected += g.Expected
		res.Received += g.Received
		res.Lost += g.Lost
		res.Duplicated += g.Duplicated
		res.OutOfOrder += g.OutOfOrder
		res.Disconnects += g.Disconnects
		inWindow += g.InWindow
		toolCPU += g.CPUMicros
		lat = lat.Merge(g.Latency)
		if g.FirstDrop != "" {
			res.Errors = append(res.Errors, "dropped: "+g.FirstDrop)
		}
	}
	res.Latency = lat.Percentiles()
	winS := time.Duration(w.End - w.Start).Seconds()
	res.WindowS = round(winS, 3)
	res.DeliveriesPerS = round(float64(inWindow)/winS, 1)
	toolCPU += win[1].toolCPUMicros - win[0].toolCPUMicros
	res.ToolCPUS = round(float64(toolCPU)/1e6, 3)
	if inWindow > 0 {
		res.ToolCPUUSPerDelivery = ptr(round(float64(toolCPU)/float64(inWindow), 3))
	}
	var pubInWindow int64
	if p := r.pub.Load(); p != nil {
		for _, a := range p.ackedCounts() {
			res.Published += a
		}
		res.PublishErrors = p.errors.Load()
		if e := p.firstErr.Load(); e != nil {
			res.Errors = append(res.Errors, "publish: "+*e)
		}
		pubInWindow = p.inWindow.Load()
		res.PublishedPerS = round(float64(pubInWindow)/winS, 1)
		pl := p.latency.Snapshot().Percentiles()
		res.PublishLatency = &pl
	}
	if before.goroutinesOK && connected.goroutinesOK && res.Subscribers > 0 {
		res.GoroutinesPerConn = ptr(round(float64(connected.goroutines-before.goroutines)/float64(res.Subscribers), 2))
	}
	if win[0].coresOK && win[1].coresOK {
		pct := func(a, b, total int64) *float64 { return ptr(round(100*float64(b-a)/float64(max(total, 1)), 1)) }
		c0, c1 := win[0].cores, win[1].cores
		res.ServerCoreBusyPct = pct(c0[0].busy, c1[0].busy, c1[0].total-c0[0].total)
		res.ServerCoreSoftirqPct = pct(c0[0].softirq, c1[0].softirq, c1[0].total-c0[0].total)
		res.ToolCoreBusyPct = pct(c0[1].busy, c1[1].busy, c1[1].total-c0[1].total)
		// Other processes on the pinned cores disturb every figure.
		other1 := *res.ToolCoreBusyPct - *pct(c0[1].softirq, c1[1].softirq, c1[1].total-c0[1].total) - 100*res.ToolCPUS/winS
		other := other1
		if win[0].procOK && win[1].procOK {
			serverShare := 100 * (win[1].proc.CPUSeconds - win[0].proc.CPUSeconds) / winS
			other = max(other, *res.ServerCoreBusyPct-*res.ServerCoreSoftirqPct-serverShare)
		}
		res.OtherLoadPct = ptr(round(max(other, 0), 1))
		res.toolSaturated = *res.ToolCoreBusyPct-max(other1, 0) >= 90
	}
	if !before.procOK || !connected.procOK || !win[0].procOK || !win[1].procOK {
		return
	}
	cpu := win[1].proc.CPUSeconds - win[0].proc.CPUSeconds
	res.ServerCPUS = ptr(round(cpu, 2))
	res.ServerPeakRSSKiB = ptr(max(end.proc.PeakKiB, connected.proc.PeakKiB))
	res.ServerRSSBeforeKiB = ptr(before.proc.RSSKiB)
	res.ServerRSSConnectedKiB = ptr(connected.proc.RSSKiB)
	if res.Subscribers > 0 {
		res.RSSKiBPerConn = ptr(round(float64(connected.proc.RSSKiB-before.proc.RSSKiB)/float64(res.Subscribers), 2))
	}
	if inWindow > 0 {
		res.ServerCPUUSPerDelivery = ptr(round(cpu*1e6/float64(inWindow), 3))
	}
	if pubInWindow > 0 && r.cfg.MaxPublish {
		res.ServerCPUUSPerPublish = ptr(round(cpu*1e6/float64(pubInWindow), 2))
	}
}

// WriteJSON writes the result as one JSON line.
func (r *Result) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteTable writes the result as a table for people.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	row("scenario", "%s (%d subscribers on %d streams, %d tool processes)", r.Scenario, r.Subscribers, r.Streams, r.Processes)
	row("connect", "%.2f s, %d failed, per connection p50 %s p99 %s", r.ConnectS, r.ConnectErrors, us(r.ConnectLatency.P50), us(r.ConnectLatency.P99))
	row("published", "%d acknowledged, %d errors, %.1f/s in the %.1f s window", r.Published, r.PublishErrors, r.PublishedPerS, r.WindowS)
	if r.RateTarget > 0 && r.PublishedPerS < 0.95*r.RateTarget {
		// Each stream's publisher waits for its acknowledgement (to keep
		// the stream's order): a slow server lowers the offered rate.
		row("warning", "published %.1f/s of the %.0f/s asked: the server acknowledged too slowly", r.PublishedPerS, r.RateTarget)
	}
	if r.PublishLatency != nil && r.PublishLatency.Count > 0 {
		pl := r.PublishLatency
		row("publish latency", "p50 %s  p90 %s  p99 %s  p999 %s  max %s", us(pl.P50), us(pl.P90), us(pl.P99), us(pl.P999), us(pl.Max))
	}
	order := strconv.FormatInt(r.OutOfOrder, 10)
	if !r.OrderChecked {
		order = "not checked (several publishes in flight per stream)"
	}
	row("deliveries", "expected %d, received %d, lost %d, duplicated %d, out of order %s", r.Expected, r.Received, r.Lost, r.Duplicated, order)
	row("disconnects", "%d", r.Disconnects)
	row("deliveries/s", "%.0f", r.DeliveriesPerS)
	l := r.Latency
	row("latency", "p50 %s  p90 %s  p99 %s  p999 %s  max %s  (%d timed)", us(l.P50), us(l.P90), us(l.P99), us(l.P999), us(l.Max), l.Count)
	row("server CPU", "%s s in the window, %s µs/delivery, %s µs/publish", opt(r.ServerCPUS), opt(r.ServerCPUUSPerDelivery), opt(r.ServerCPUUSPerPublish))
	row("server RSS", "%s KiB before, %s KiB connected, %s KiB peak, %s KiB/connection", opt(r.ServerRSSBeforeKiB), opt(r.ServerRSSConnectedKiB), opt(r.ServerPeakRSSKiB), opt(r.RSSKiBPerConn))
	row("server goroutines", "%s per connection", opt(r.GoroutinesPerConn))
	row("tool CPU", "%.2f s in the window, %s µs/delivery", r.ToolCPUS, opt(r.ToolCPUUSPerDelivery))
	if r.ServerCoreBusyPct != nil {
		row("cores", "server's CPU 0 %s%% busy (%s%% softirq), tool's CPU 1 %s%% busy", opt(r.ServerCoreBusyPct), opt(r.ServerCoreSoftirqPct), opt(r.ToolCoreBusyPct))
		if r.toolSaturated {
			row("warning", "the tool's core was saturated: latency and throughput may be the tool's, not the server's")
		}
		if *r.OtherLoadPct >= 10 {
			row("warning", "other processes used about %.0f%% of a core: rerun on an idle machine", *r.OtherLoadPct)
		}
	}
	for _, e := range r.Errors {
		row("error", "%s", e)
	}
	return tw.Flush()
}

func us(v float64) string {
	if v >= 10_000 {
		return fmt.Sprintf("%.1fms", v/1000)
	}
	return fmt.Sprintf("%.0fµs", v)
}

func opt[T int64 | float64](p *T) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprint(*p)
}

func ptr[T any](v T) *T { return &v }

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func first(s []string) string {
	if len(s) == 0 {
		return "no error recorded"
	}
	return s[0]
}
