//go:build linux

package loadgen

import (
	"fmt"
	"io"
	"time"
)

// showProgress prints one line a second until the returned stop is called.
func (r *runner) showProgress(w io.Writer) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		start := time.Now()
		var lastSent, lastRecv int64
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			var conn, recv int64
			for _, s := range r.shards {
				c, n := s.progress()
				conn, recv = conn+c, recv+n
			}
			var sent int64
			if p := r.pub.Load(); p != nil {
				sent = p.sent.Load()
			}
			fmt.Fprintf(w, "[%4.0fs] connected %d/%d  sent %d (%d/s)  received %d (%d/s)\n",
				time.Since(start).Seconds(), conn, r.cfg.Subscribers, sent, sent-lastSent, recv, recv-lastRecv)
			lastSent, lastRecv = sent, recv
		}
	}()
	return func() { close(done); <-finished }
}
