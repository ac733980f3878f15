package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

// Reads of history use JetStream's batched direct get: a request answered
// from the stream's store by whichever replica receives it, with no
// consumer to create and clean up. Creating an ordered consumer per read
// does not survive a reconnect storm: thousands of short-lived consumers
// hit the server's consumer limits.

const directBatch = 512

type directGetRequest struct {
	Seq      uint64 `json:"seq"`
	NextFor  string `json:"next_by_subj"`
	Batch    int    `json:"batch"`
	MaxBytes int    `json:"max_bytes,omitempty"`
}

// acquireRead waits for one of the read slots. Bounding the reads in flight
// keeps a reconnect storm from flooding the read connection: past a point,
// more concurrent reads only make every one of them slower, and handlers of
// clients that gave up would pile up behind them. A waiter leaves as soon as
// its client does (ctx).
func (e *Engine) acquireRead(ctx context.Context) (release func(), err error) {
	select {
	case e.reads <- struct{}{}:
		return func() { <-e.reads }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("engine: waiting to read: %w", ctx.Err())
	}
}

// read returns, in sequence order, the messages on the subjects with
// after < sequence <= upTo: all of them, or the first max when max > 0.
func (e *Engine) read(ctx context.Context, subjects []string, after, upTo uint64, max int) ([]Record, error) {
	release, err := e.acquireRead(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	var out []Record
	for _, subj := range subjects {
		recs, err := e.readSubject(ctx, subj, after+1, upTo, max)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	if len(subjects) > 1 {
		sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	}
	if max > 0 && len(out) > max {
		out = out[:max]
	}
	return out, nil
}

// readSubject pages through subject from sequence from with batched direct
// gets until none is pending, upTo is passed or max are read.
func (e *Engine) readSubject(ctx context.Context, subject string, from, upTo uint64, max int) ([]Record, error) {
	inbox := e.rc.NewRespInbox()
	sub, err := e.rc.SubscribeSync(inbox)
	if err != nil {
		return nil, fmt.Errorf("engine: read %s: %w", subject, err)
	}
	defer sub.Unsubscribe()
	api := "$JS.API.DIRECT.GET." + messagesStream
	var out []Record
	for {
		batch := directBatch
		if max > 0 {
			batch = min(batch, max-len(out))
		}
		req, _ := json.Marshal(directGetRequest{Seq: from, NextFor: subject, Batch: batch, MaxBytes: 8 << 20})
		if err := e.rc.PublishRequest(api, inbox, req); err != nil {
			return nil, fmt.Errorf("engine: read %s: %w", subject, err)
		}
		pending, last, got, err := e.readBatch(ctx, sub, &out)
		if err != nil {
			return nil, fmt.Errorf("engine: read %s: %w", subject, err)
		}
		if got == 0 || pending == 0 || last >= upTo || (max > 0 && len(out) >= max) {
			n := len(out)
			for n > 0 && out[n-1].Seq > upTo {
				n--
			}
			return out[:n], nil
		}
		from = last + 1
	}
}

// extent is what a subject holds: its oldest sequence and its message count.
type extent struct {
	First, Count uint64
}

// extents returns, for each subject filter, the oldest retained sequence and
// the number of messages, with one single-message direct get each.
func (e *Engine) extents(ctx context.Context, subjects []string) ([]extent, error) {
	release, err := e.acquireRead(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	inbox := e.rc.NewRespInbox()
	sub, err := e.rc.SubscribeSync(inbox)
	if err != nil {
		return nil, fmt.Errorf("engine: extents: %w", err)
	}
	defer sub.Unsubscribe()
	api := "$JS.API.DIRECT.GET." + messagesStream
	out := make([]extent, len(subjects))
	var discard []Record
	for i, subj := range subjects {
		req, _ := json.Marshal(directGetRequest{Seq: 1, NextFor: subj, Batch: 1})
		if err := e.rc.PublishRequest(api, inbox, req); err != nil {
			return nil, fmt.Errorf("engine: extent of %s: %w", subj, err)
		}
		pending, first, got, err := e.readBatch(ctx, sub, &discard)
		if err != nil {
			return nil, fmt.Errorf("engine: extent of %s: %w", subj, err)
		}
		if got > 0 {
			out[i] = extent{First: first, Count: uint64(got) + pending}
		}
		discard = discard[:0]
	}
	return out, nil
}

// readBatch collects one batch's messages up to its end-of-batch marker and
// returns the number still pending after it and the last sequence read.
func (e *Engine) readBatch(ctx context.Context, sub *nats.Subscription, out *[]Record) (pending, last uint64, got int, err error) {
	for {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		m, err := sub.NextMsgWithContext(wctx)
		cancel()
		if err != nil {
			return 0, 0, got, err
		}
		switch m.Header.Get("Status") {
		case "404": // nothing at or after the start
			return 0, last, got, nil
		case "204": // end of batch
			pending, _ = strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64)
			return pending, last, got, nil
		case "":
		default:
			return 0, 0, got, fmt.Errorf("direct get: status %s %s", m.Header.Get("Status"), m.Header.Get("Description"))
		}
		seq, err := strconv.ParseUint(m.Header.Get("Nats-Sequence"), 10, 64)
		if err != nil {
			return 0, 0, got, fmt.Errorf("direct get: bad sequence header %q", m.Header.Get("Nats-Sequence"))
		}
		got++
		last = seq
		stream, kind, user, ok := parseSubject(m.Header.Get("Nats-Subject"))
		if !ok {
			continue
		}
		ts, _ := time.Parse(time.RFC3339Nano, m.Header.Get("Nats-Time-Stamp"))
		*out = append(*out, Record{Seq: seq, Stream: stream, Kind: kind, ToUser: user, Data: m.Data, Time: ts})
	}
}
