//go:build linux

package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/tidings/tidings/client"
)

// fixture is what setup made on the server.
type fixture struct {
	streams   []int64
	tokens    []string // a publisher token per stream
	widgetKey string
}

// setup creates a widget and n live streams through /v1, and gets a
// publisher token for each stream from a subscription it closes at once (a
// publisher that stayed subscribed without reading would be cut off as a
// slow consumer, and would count as a viewer).
func setup(ctx context.Context, t target, apiKey, name string, n int) (*fixture, error) {
	if apiKey == "" {
		return nil, errors.New("loadgen: an API key is needed to create streams: give --api-key or set TIDINGS_API_KEY")
	}
	c := client.New(t.base, client.WithAPIKey(apiKey))
	w, err := c.CreateWidget(ctx, client.CreateWidgetParams{Name: "tidings-bench " + name})
	if err != nil {
		return nil, fmt.Errorf("loadgen: create widget: %w", err)
	}
	f := &fixture{streams: make([]int64, n), tokens: make([]string, n), widgetKey: w.Key}
	err = parallel(ctx, n, 8, func(i int) error {
		st, err := c.CreateStream(ctx, client.CreateStreamParams{Name: fmt.Sprintf("tidings-bench %s %d", name, i)})
		if err != nil {
			return fmt.Errorf("create stream: %w", err)
		}
		if _, err := c.StartStream(ctx, st.ID); err != nil {
			return fmt.Errorf("start stream %d: %w", st.ID, err)
		}
		f.streams[i] = st.ID
		f.tokens[i], err = publisherToken(t, st.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("loadgen: setup: %w", err)
	}
	return f, nil
}

// teardown ends the streams, best effort, so that repeated runs against one
// server do not pile up live streams.
func teardown(t target, apiKey string, f *fixture) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := client.New(t.base, client.WithAPIKey(apiKey))
	_ = parallel(ctx, len(f.streams), 8, func(i int) error {
		_, _ = c.EndStream(ctx, f.streams[i])
		return nil
	})
}

func publisherToken(t target, stream int64) (string, error) {
	addr, err := net.ResolveTCPAddr("tcp", t.addr)
	if err != nil {
		return "", err
	}
	spec := dialSpec{addr: addr, host: t.host, path: "/subscribe/" + strconv.FormatInt(stream, 10), bufSize: 16 << 10, timeout: 10 * time.Second}
	s, err := dialSubscriber(spec, newSink(), 0)
	if err != nil {
		return "", fmt.Errorf("subscribe to stream %d for a token: %w", stream, err)
	}
	s.closeFD()
	if s.token == "" {
		return "", fmt.Errorf("stream %d: init event without a token", stream)
	}
	return s.token, nil
}

// parallel runs fn(0…n-1) on k goroutines and returns the first error.
func parallel(ctx context.Context, n, k int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  int
	)
	for range min(k, n) {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				stop := first != nil || ctx.Err() != nil
				mu.Unlock()
				if i >= n || stop {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}
