package engine

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tidings/tidings/internal/store"
)

// The message stream keeps every broadcast under tdg.m.<stream>.b and every
// private message under tdg.m.<stream>.p.<user>. Per-subject limits bound a
// stream's broadcast history and each user's privates independently, and the
// JetStream sequence gives one global order that all nodes deliver in.
const (
	messagesStream = "TIDINGS_MESSAGES"
	messagesPrefix = "tdg.m."
)

// Record is one stored channel message.
type Record = store.Record

func broadcastSubject(stream int64) string {
	return messagesPrefix + strconv.FormatInt(stream, 10) + ".b"
}

func privateSubject(stream int64, user string) string {
	return messagesPrefix + strconv.FormatInt(stream, 10) + ".p." + user
}

// parseSubject is the inverse of the two subject builders.
func parseSubject(subj string) (stream int64, kind byte, user string, ok bool) {
	rest, found := strings.CutPrefix(subj, messagesPrefix)
	if !found {
		return 0, 0, "", false
	}
	id, tail, found := strings.Cut(rest, ".")
	if !found {
		return 0, 0, "", false
	}
	stream, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return 0, 0, "", false
	}
	switch {
	case tail == "b":
		return stream, store.KindBroadcast, "", true
	case strings.HasPrefix(tail, "p."):
		return stream, store.KindPrivate, tail[2:], true
	}
	return 0, 0, "", false
}

func (e *Engine) ensureMessages(ctx context.Context) error {
	cfg := jetstream.StreamConfig{
		Name:              messagesStream,
		Description:       "Tidings channel messages: broadcast history and private messages",
		Subjects:          []string{messagesPrefix + ">"},
		Retention:         jetstream.LimitsPolicy,
		Storage:           jetstream.FileStorage,
		Discard:           jetstream.DiscardOld,
		MaxMsgsPerSubject: e.cfg.HistoryMaxMsgs,
		MaxAge:            e.cfg.HistoryMaxAge,
		Duplicates:        e.cfg.DuplicateWindow,
		Replicas:          e.cfg.Replicas,
		AllowDirect:       true,
	}
	s, err := e.js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return fmt.Errorf("engine: message stream: %w", err)
	}
	e.msgs = s
	return nil
}

// Publish stores one message and returns its sequence once JetStream has
// acknowledged it. toUser empty stores a broadcast, else a private message.
// A non-empty msgID deduplicates retries within the duplicate window;
// duplicate reports that this publish was one.
func (e *Engine) Publish(ctx context.Context, stream int64, toUser string, data []byte, msgID string) (seq uint64, duplicate bool, err error) {
	subj := broadcastSubject(stream)
	if toUser != "" {
		subj = privateSubject(stream, toUser)
	}
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(strconv.FormatInt(stream, 10)+":"+msgID))
	}
	ack, err := e.js.Publish(ctx, subj, data, opts...)
	if err != nil {
		return 0, false, fmt.Errorf("engine: publish: %w", err)
	}
	return ack.Sequence, ack.Duplicate, nil
}

// LastSeq is the sequence of the newest message in the message stream.
func (e *Engine) LastSeq(ctx context.Context) (uint64, error) {
	info, err := e.msgs.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("engine: message stream info: %w", err)
	}
	return info.State.LastSeq, nil
}

// Tail delivers every message stored after sequence `after`, in order, to
// fn, from one goroutine, until ctx is done. It is how each node learns of
// messages published on any node. fn must not block for long.
func (e *Engine) Tail(ctx context.Context, after uint64, fn func(Record)) error {
	cons, err := e.js.OrderedConsumer(ctx, messagesStream, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   after + 1,
		NamePrefix:    "tail_" + e.cfg.Name,
	})
	if err != nil {
		return fmt.Errorf("engine: tail consumer: %w", err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if r, ok := toRecord(m); ok {
			fn(r)
		}
	}, jetstream.PullMaxMessages(1024))
	if err != nil {
		return fmt.Errorf("engine: tail: %w", err)
	}
	go func() {
		<-ctx.Done()
		cc.Stop()
	}()
	return nil
}

func toRecord(m jetstream.Msg) (Record, bool) {
	meta, err := m.Metadata()
	if err != nil {
		return Record{}, false
	}
	stream, kind, user, ok := parseSubject(m.Subject())
	if !ok {
		return Record{}, false
	}
	return Record{Seq: meta.Sequence.Stream, Stream: stream, Kind: kind, ToUser: user, Data: m.Data(), Time: meta.Timestamp}, true
}

// History returns the stored broadcasts of stream, oldest first.
func (e *Engine) History(ctx context.Context, stream int64) ([]Record, error) {
	return e.read(ctx, []string{broadcastSubject(stream)}, 0, math.MaxUint64, 0)
}

// Range returns, oldest first, the broadcasts of stream and the private
// messages for user stored after sequence `after`, up to and including upTo:
// all of them, or the first max when max > 0 (a replay reads in chunks).
func (e *Engine) Range(ctx context.Context, stream int64, user string, after, upTo uint64, max int) ([]Record, error) {
	if upTo <= after {
		return nil, nil
	}
	return e.read(ctx, []string{broadcastSubject(stream), privateSubject(stream, user)}, after, upTo, max)
}

// Lost reports whether any broadcast of stream or private message for user
// stored after sequence `after` may have been removed by the history limits.
// It errs on the side of reporting a loss, never of hiding one.
//
// Limits remove messages oldest first: by age in sequence order across the
// whole log, and per subject once a subject holds HistoryMaxMsgs. So if the
// log still starts at or before after+1, nothing after `after` aged out; and
// a subject below its limit has never been trimmed past `after` (a trimmed
// subject stays at the limit until age removes more). Only a subject whose
// oldest retained message is beyond after+1 can have lost something.
//
// Every resume asks this, so it uses direct gets only: a stream info request
// per reconnect goes through the JetStream API queue, which a reconnect
// storm floods until publishes stall behind it.
func (e *Engine) Lost(ctx context.Context, stream int64, user string, after uint64) (bool, error) {
	ext, err := e.extents(ctx, []string{messagesPrefix + ">", broadcastSubject(stream), privateSubject(stream, user)})
	if err != nil {
		return false, err
	}
	log, subjects := ext[0], ext[1:]
	aged := log.Count > 0 && log.First > after+1
	if log.Count == 0 {
		// An empty log lost everything it ever held past `after`.
		last, err := e.LastSeq(ctx)
		if err != nil {
			return false, err
		}
		aged = last > after
	}
	for _, x := range subjects {
		switch {
		case x.Count == 0:
			if aged {
				return true, nil
			}
		case x.First <= after+1:
		case aged || int64(x.Count) >= e.cfg.HistoryMaxMsgs:
			return true, nil
		}
	}
	return false, nil
}
