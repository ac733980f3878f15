//go:build linux

package loadgen

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Scenario is a named, documented preset: a Config without its target, and
// the serve flags it needs when the tool starts the server itself.
type Scenario struct {
	Name        string
	Description string
	Config      Config
	ServerFlags []string
}

// Scenarios returns the presets of issue 6 (and a smoke run), in order.
// The E runs measure the publish path: acknowledged publishes per second
// with 32 requests in flight.
func Scenarios() []Scenario {
	const payload = 100
	pub := func(subs, streams int, rate float64, d time.Duration) Config {
		return Config{Subscribers: subs, Streams: streams, Rate: rate, Payload: payload, Warmup: 3 * time.Second, Duration: d}
	}
	maxPub := func(subs int) Config {
		return Config{Subscribers: subs, Streams: 1, MaxPublish: true, Concurrency: 32, Payload: payload, Warmup: 2 * time.Second, Duration: 10 * time.Second}
	}
	sync := []string{"--sync", "always"}
	return []Scenario{
		{"smoke", "200 subscribers on 2 streams, 50 msg/s for 2 s", Config{Subscribers: 200, Streams: 2, Rate: 50, Payload: payload, Warmup: 500 * time.Millisecond, Duration: 2 * time.Second}, nil},
		{"A", "1,000 subscribers on 1 stream, 200 msg/s, 100-byte payloads", pub(1000, 1, 200, 20*time.Second), nil},
		{"B20", "10,000 subscribers on 1 stream, 20 msg/s", pub(10_000, 1, 20, 20*time.Second), nil},
		{"B100", "10,000 subscribers on 1 stream, 100 msg/s", pub(10_000, 1, 100, 20*time.Second), nil},
		{"C", "10,000 subscribers over 1,000 streams, 500 msg/s in total", pub(10_000, 1000, 500, 20*time.Second), nil},
		{"D", "15,000 idle subscribers on 1 stream: server RSS and goroutines per connection",
			Config{Subscribers: 15_000, Streams: 1, Duration: 10 * time.Second, Settle: 3 * time.Second, ReadBuffer: 4 << 10}, nil},
		{"E1", "publish path, 1 subscriber, default durability", maxPub(1), nil},
		{"E1000", "publish path, 1,000 subscribers, default durability", maxPub(1000), nil},
		{"E1-sync", "publish path, 1 subscriber, --sync always", maxPub(1), sync},
		{"E1000-sync", "publish path, 1,000 subscribers, --sync always", maxPub(1000), sync},
	}
}

// LookupScenario returns the preset called name (case-insensitive).
func LookupScenario(name string) (Scenario, error) {
	all := Scenarios()
	i := slices.IndexFunc(all, func(s Scenario) bool { return strings.EqualFold(s.Name, name) })
	if i < 0 {
		names := make([]string, len(all))
		for j, s := range all {
			names[j] = s.Name
		}
		return Scenario{}, fmt.Errorf("loadgen: no scenario %q; there are %s", name, strings.Join(names, ", "))
	}
	s := all[i]
	s.Config.Scenario = s.Name
	return s, nil
}
