package httpapi

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/tidings/tidings/internal/channel"
	"github.com/tidings/tidings/internal/hub"
)

// subscribe serves GET /subscribe/{stream}: an SSE stream that starts with
// init (or, on a resume with Last-Event-ID, with what the client missed).
func (a *API) subscribe(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "stream", "stream")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), channel.WaitTimeout)
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		// Clients that cannot set headers may pass it in the query.
		last = r.URL.Query().Get("lastEventId")
	}
	sess, err := a.cfg.Channel.Subscribe(ctx, id, last)
	cancel()
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer
	if a.cfg.SSE != nil && r.ProtoMajor == 1 {
		if a.attach(w, r, sess) {
			return
		}
	}
	defer a.cfg.Channel.Leave(sess)
	capSendBuffer(r.Context(), a.cfg.SendBuffer)
	h.Set("Connection", "keep-alive")
	w.WriteHeader(http.StatusOK)
	a.stream(w, r, sess.Sub)
}

// attach hands the connection to the SSE writer pool: the response is
// written by hand (status, headers, then events until either side closes)
// and this handler's goroutine and buffers are released. It reports false,
// having written nothing, if the connection cannot be taken over.
func (a *API) attach(w http.ResponseWriter, r *http.Request, sess *channel.Session) bool {
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	_ = brw // an SSE client sends nothing more; its read buffer is dropped
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(a.cfg.SendBuffer)
	}
	head := bytes.NewBuffer(make([]byte, 0, 512))
	head.WriteString("HTTP/1.1 200 OK\r\n")
	// The body ends when the connection does: no length, no chunking.
	w.Header().Set("Connection", "close")
	_ = w.Header().Write(head)
	head.WriteString("\r\nretry: ")
	head.WriteString(strconv.FormatInt(a.cfg.Retry.Milliseconds(), 10))
	head.WriteString("\n\n")
	a.cfg.SSE.Attach(nc, sess.Sub, head.Bytes(), func() { a.cfg.Channel.Leave(sess) })
	return true
}

// stream writes sub's events until the client goes away or the server
// closes the subscription. Whatever has queued up is coalesced into one
// write and one flush.
func (a *API) stream(w http.ResponseWriter, r *http.Request, sub *hub.Subscriber) {
	rc := http.NewResponseController(w)
	buf := make([]byte, 0, 512)
	buf = append(buf, "retry: "...)
	buf = strconv.AppendInt(buf, a.cfg.Retry.Milliseconds(), 10)
	buf = append(buf, "\n\n"...)

	var events []*hub.Event
	wake := sub.WakeChan()
	sub.Signal() // anything queued before the channel existed
	idle := time.NewTimer(a.cfg.Heartbeat)
	defer idle.Stop()
	for {
		var closed bool
		events, closed, _ = sub.Drain(events)
		for _, ev := range events {
			buf = ev.AppendTo(buf, sub.IDPrefix())
		}
		clear(events)
		if len(buf) > 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(a.cfg.WriteTimeout))
			_, err := w.Write(buf)
			if err == nil {
				err = rc.Flush()
			}
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					// Not reading for WriteTimeout is being too slow too.
					sub.Close(hub.ReasonSlow, nil)
				}
				return
			}
			// Large bursts should not pin a large buffer per connection.
			if cap(buf) > 64<<10 {
				buf = make([]byte, 0, 512)
			}
			buf = buf[:0]
			idle.Reset(a.cfg.Heartbeat)
		}
		if closed {
			if _, reason := sub.Closed(); reason == hub.ReasonSlow {
				// Its queue was dropped; say why, if the socket takes it.
				_ = rc.SetWriteDeadline(time.Now().Add(time.Second))
				_, _ = w.Write(channel.ClosingNotice(sub.Stream, reason).AppendTo(nil, nil))
				_ = rc.Flush()
			}
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-wake:
		case <-idle.C:
			buf = append(buf, hub.Heartbeat...)
		}
	}
}

// publish serves POST /publish/{stream}?token=…
func (a *API) publish(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "stream", "stream")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	body, err := a.readBody(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), channel.WaitTimeout)
	defer cancel()
	err = a.cfg.Channel.Publish(ctx, id, r.URL.Query().Get("token"), body, r.Header.Get("Idempotency-Key"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, reply{Code: http.StatusOK, Message: "OK"})
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	if !a.cfg.Ready() {
		writeJSON(w, http.StatusServiceUnavailable, reply{Code: http.StatusServiceUnavailable, Message: "not ready: the engine is not connected"})
		return
	}
	writeJSON(w, http.StatusOK, reply{Code: http.StatusOK, Message: "OK"})
}

func (a *API) notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, reply{Code: http.StatusNotFound, Message: "no such endpoint: " + r.Method + " " + r.URL.Path})
}
