package engine

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
)

// Signals are core NATS messages: not stored, delivered to whichever nodes
// are connected now. Presence counts and routed replies use them.
const signalPrefix = "tdg.s."

// Signal publishes data on the signal subject name (e.g. "presence.15").
func (e *Engine) Signal(name string, data []byte) error {
	if err := e.nc.Publish(signalPrefix+name, data); err != nil {
		return fmt.Errorf("engine: signal %s: %w", name, err)
	}
	return nil
}

// OnSignal calls fn for every signal whose name matches pattern (NATS
// wildcards allowed: "presence.>") until ctx is done. fn runs on one
// goroutine per subscription and must not block for long.
func (e *Engine) OnSignal(ctx context.Context, pattern string, fn func(name string, data []byte)) error {
	sub, err := e.nc.Subscribe(signalPrefix+pattern, func(m *nats.Msg) {
		fn(m.Subject[len(signalPrefix):], m.Data)
	})
	if err != nil {
		return fmt.Errorf("engine: subscribe %s: %w", pattern, err)
	}
	// Signals can burst (presence on a join storm); let them queue rather
	// than be dropped as a slow consumer.
	_ = sub.SetPendingLimits(1<<20, 256<<20)
	go func() {
		<-ctx.Done()
		_ = sub.Unsubscribe()
	}()
	return nil
}

// Flush waits until the server has processed everything published so far.
func (e *Engine) Flush(ctx context.Context) error {
	return e.nc.FlushWithContext(ctx)
}
