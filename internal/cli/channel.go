package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/tidings/tidings/client"
)

// publish implements "publish STREAM": it subscribes to obtain a viewer
// token, publishes one envelope and, for a request or a webhook, waits for
// the reply addressed to this subscriber (for a webhook, its result once
// the call is done) and prints it.
func publish(e *env, args []string) error {
	fs := e.flagSet("publish", "STREAM --widget-key K [--type broadcast|private|request|webhook] [--to USER] [--message JSON|TEXT] [--idempotency-key K] [--timeout D]")
	widgetKey := fs.String("widget-key", "", "widget `key` (required)")
	typ := fs.String("type", client.TypeBroadcast, "envelope `type`: broadcast, private, request or webhook (message {\"url\":…})")
	to := fs.String("to", "", "recipient `user` id (private messages)")
	message := fs.String("message", "", "message: JSON, or text sent as a JSON string")
	idem := fs.String("idempotency-key", "", "Idempotency-Key header `value`")
	timeout := fs.Duration("timeout", 10*time.Second, "overall time limit, including waiting for a reply")
	pos, err := parseWithArgs(fs, args, "STREAM")
	if err != nil {
		return err
	}
	streamID, err := parseID(pos[0])
	if err != nil {
		return err
	}
	env, err := publishEnvelope(fs, *typ, *widgetKey, *to, *message)
	if err != nil {
		return err
	}
	if *timeout <= 0 {
		return fmt.Errorf("invalid --timeout %v", *timeout)
	}
	c, err := e.client(false)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(e.ctx, *timeout)
	defer cancel()
	sub, err := c.Subscribe(ctx, streamID)
	if err != nil {
		if ctx.Err() != nil && e.ctx.Err() == nil {
			return fmt.Errorf("no init event within %v", *timeout)
		}
		return err
	}
	defer sub.Close()
	var opts []client.PublishOption
	if *idem != "" {
		opts = append(opts, client.WithIdempotencyKey(*idem))
	}
	if err := sub.Publish(ctx, env, opts...); err != nil {
		return err
	}
	if env.Type != client.TypeRequest && env.Type != client.TypeWebhook {
		if e.jsonOut {
			return nil
		}
		_, err := fmt.Fprintf(e.stdout, "published %s to stream %d as user %s\n", env.Type, streamID, orDash(sub.UserID()))
		return err
	}
	for {
		reply, err := sub.Next(ctx)
		switch {
		case errors.Is(err, client.ErrBadEvent):
			fmt.Fprintf(e.stderr, "warning: %v\n", err)
			continue
		case err != nil && ctx.Err() != nil && e.ctx.Err() == nil:
			return fmt.Errorf("no reply within %v", *timeout)
		case err != nil:
			return err
		}
		if isReply(reply, sub.UserID()) && (env.Type != client.TypeWebhook || reply.Type == client.TypeWebhook) {
			return e.printEvent(reply)
		}
	}
}

// publishEnvelope validates the publish flags and builds the envelope.
func publishEnvelope(fs *flag.FlagSet, typ, widgetKey, to, message string) (client.Envelope, error) {
	env := client.Envelope{Type: typ, WidgetKey: widgetKey, ToUserID: to}
	if widgetKey == "" {
		return env, errors.New("--widget-key is required")
	}
	switch typ {
	case client.TypeBroadcast, client.TypePrivate, client.TypeRequest, client.TypeWebhook:
	default:
		return env, fmt.Errorf("invalid --type %q: want broadcast, private, request or webhook", typ)
	}
	if typ == client.TypePrivate && to == "" {
		return env, errors.New("--to is required for a private message")
	}
	if typ != client.TypePrivate && to != "" {
		return env, errors.New("--to is only valid with --type private")
	}
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "message" })
	switch {
	case set:
		env.Message = parseMessage(message)
	case typ == client.TypeRequest:
		env.Message = json.RawMessage(`{}`)
	default:
		return env, fmt.Errorf("--message is required for a %s message", typ)
	}
	return env, nil
}

// parseMessage returns s as compact JSON if it is a valid JSON value, and
// otherwise encoded as a JSON string.
func parseMessage(s string) json.RawMessage {
	var buf bytes.Buffer
	if json.Valid([]byte(s)) && json.Compact(&buf, []byte(s)) == nil {
		return buf.Bytes()
	}
	b, _ := json.Marshal(s) // a string always encodes
	return b
}

// isReply reports whether env answers a request made by userID: it is
// addressed to userID, or it is a request-type envelope from someone
// else.
func isReply(env client.Envelope, userID string) bool {
	if userID != "" && env.ToUserID == userID {
		return true
	}
	return env.Type == client.TypeRequest && env.AuthorID != userID
}

// tail implements "tail STREAM".
func tail(e *env, args []string) error {
	fs := e.flagSet("tail", "STREAM [--last-event-id ID]")
	lastID := fs.String("last-event-id", "", "resume after the event with this `id`")
	pos, err := parseWithArgs(fs, args, "STREAM")
	if err != nil {
		return err
	}
	streamID, err := parseID(pos[0])
	if err != nil {
		return err
	}
	c, err := e.client(false)
	if err != nil {
		return err
	}
	sub, err := c.Subscribe(e.ctx, streamID, client.WithLastEventID(*lastID))
	if err != nil {
		if e.ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer sub.Close()
	if init, ok := sub.Init(); ok {
		if err := e.printEvent(init); err != nil {
			return err
		}
	}
	for {
		env, err := sub.Next(e.ctx)
		switch {
		case errors.Is(err, client.ErrBadEvent):
			fmt.Fprintf(e.stderr, "warning: %v\n", err)
			continue
		case e.ctx.Err() != nil, errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
		if err := e.printEvent(env); err != nil {
			return err
		}
	}
}

// printEvent prints one envelope: with --json as one line of JSON,
// otherwise as "<type> <author_id> <compact message JSON>".
func (e *env) printEvent(env client.Envelope) error {
	if e.jsonOut {
		b, err := json.Marshal(env)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", b)
		return err
	}
	_, err := fmt.Fprintln(e.stdout, formatEvent(env))
	return err
}

// formatEvent renders env as "<type> <author_id> <compact message JSON>",
// with "-" for an empty type or author and "null" for no message.
func formatEvent(env client.Envelope) string {
	msg := "null"
	if len(env.Message) > 0 {
		var buf bytes.Buffer
		if json.Compact(&buf, env.Message) == nil {
			msg = buf.String()
		} else {
			msg = string(env.Message)
		}
	}
	return fmt.Sprintf("%s %s %s", orDash(env.Type), orDash(env.AuthorID), msg)
}
