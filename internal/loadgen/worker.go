//go:build linux

package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"
)

// Worker is the body of a worker process: it reads its GroupConfig as the
// first JSON line of in, connects its subscribers, and follows the parent's
// Window and Finish lines, answering on out (see wireMsg). If in ends early
// (the parent is gone) it closes its connections and returns.
func Worker(ctx context.Context, in io.Reader, out io.Writer) error {
	var mu sync.Mutex
	enc := json.NewEncoder(out)
	send := func(m wireMsg) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(m)
	}
	dec := json.NewDecoder(in)
	var m wireMsg
	if err := dec.Decode(&m); err != nil || m.Config == nil {
		return fmt.Errorf("loadgen: worker: no configuration on stdin: %v", err)
	}
	if m.Deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Unix(0, m.Deadline))
		defer cancel()
	}
	raiseFileLimit()
	g := newGroup(*m.Config)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				c, r := g.progress()
				send(wireMsg{Progress: &[2]int64{c, r}})
			}
		}
	})
	defer wg.Wait()
	defer close(stop)

	cr, err := g.connect(ctx)
	if err != nil {
		send(wireMsg{Error: err.Error()})
		return err
	}
	send(wireMsg{Connected: &cr})
	for {
		var m wireMsg
		if err := dec.Decode(&m); err != nil {
			g.finish(ctx, Finish{Acked: make([]int64, len(g.cfg.Streams))})
			if errors.Is(err, io.EOF) {
				return errors.New("loadgen: worker: the parent went away")
			}
			return fmt.Errorf("loadgen: worker: %w", err)
		}
		switch {
		case m.Window != nil:
			g.start(*m.Window)
		case m.Finish != nil:
			r := g.finish(ctx, *m.Finish)
			send(wireMsg{Result: &r})
			return nil
		}
	}
}

// raiseFileLimit lifts the open-file limit to its hard maximum: every
// connection is a file. Processes started afterwards inherit it.
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}
