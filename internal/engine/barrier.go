package engine

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Nodes announce themselves on a signal subject every beat, so a node can
// tell which others are alive. Barriers use this to wait for all of them.
const (
	nodeBeat    = time.Second
	nodeTimeout = 4 * nodeBeat
)

type membership struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// startMembership announces this node and tracks the others until ctx is done.
func (e *Engine) startMembership(ctx context.Context) error {
	e.members = &membership{seen: map[string]time.Time{}}
	sub, err := e.nc.Subscribe(signalPrefix+"node", func(m *nats.Msg) {
		e.members.mu.Lock()
		e.members.seen[string(m.Data)] = time.Now()
		e.members.mu.Unlock()
	})
	if err != nil {
		return fmt.Errorf("engine: membership: %w", err)
	}
	_ = e.nc.Publish(signalPrefix+"node", []byte(e.cfg.Name))
	go func() {
		t := time.NewTicker(nodeBeat)
		defer t.Stop()
		defer sub.Unsubscribe()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = e.nc.Publish(signalPrefix+"node", []byte(e.cfg.Name))
			}
		}
	}()
	return nil
}

// Nodes returns the names of the nodes heard from recently, this one included.
func (e *Engine) Nodes() []string {
	e.members.mu.Lock()
	defer e.members.mu.Unlock()
	out := []string{e.cfg.Name}
	for n, t := range e.members.seen {
		if n != e.cfg.Name && time.Since(t) < nodeTimeout {
			out = append(out, n)
		}
	}
	return out
}

// OnBarrier answers barrier requests on topic: each is answered once
// wait(rev) returns, that is, once this node has applied revision rev.
func (e *Engine) OnBarrier(ctx context.Context, topic string, wait func(context.Context, uint64) error) error {
	sub, err := e.nc.Subscribe(signalPrefix+"barrier."+topic, func(m *nats.Msg) {
		rev, err := strconv.ParseUint(string(m.Data), 10, 64)
		if err != nil || m.Reply == "" {
			return
		}
		go func() {
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if wait(wctx, rev) == nil {
				_ = m.Respond([]byte(e.cfg.Name))
			}
		}()
	})
	if err != nil {
		return fmt.Errorf("engine: barrier %s: %w", topic, err)
	}
	go func() {
		<-ctx.Done()
		_ = sub.Unsubscribe()
	}()
	return nil
}

// Barrier returns once every live node has applied revision rev of topic
// (see OnBarrier), so a change made here is in force everywhere when the
// caller answers. It gives up when ctx is done, returning an error.
func (e *Engine) Barrier(ctx context.Context, topic string, rev uint64) error {
	want := map[string]bool{}
	for _, n := range e.Nodes() {
		want[n] = true
	}
	inbox := nats.NewInbox()
	replies := make(chan string, 64)
	sub, err := e.nc.Subscribe(inbox, func(m *nats.Msg) {
		select {
		case replies <- string(m.Data):
		default:
		}
	})
	if err != nil {
		return fmt.Errorf("engine: barrier: %w", err)
	}
	defer sub.Unsubscribe()
	if err := e.nc.PublishRequest(signalPrefix+"barrier."+topic, inbox, []byte(strconv.FormatUint(rev, 10))); err != nil {
		return fmt.Errorf("engine: barrier: %w", err)
	}
	for len(want) > 0 {
		select {
		case n := <-replies:
			delete(want, n)
		case <-ctx.Done():
			return fmt.Errorf("engine: barrier %s: %d node(s) did not confirm: %w", topic, len(want), ctx.Err())
		}
	}
	return nil
}
