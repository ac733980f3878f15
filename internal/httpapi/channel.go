package httpapi

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"

	"github.com/tidings/tidings/internal/channel"
	"github.com/tidings/tidings/internal/fault"
)

// subscribe serves GET /subscribe/{stream}: an SSE stream that starts with
// init (or, on a resume with Last-Event-ID, with what the client missed).
func (a *API) subscribe(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "stream", "stream")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		// Clients that cannot set headers may pass it in the query.
		last = r.URL.Query().Get("lastEventId")
	}
	sess, err := a.cfg.Channel.Subscribe(id, last)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer
	if !a.attach(w, sess) {
		a.cfg.Channel.Leave(sess)
		a.writeError(w, r, errNoHijack)
		return
	}
	sess.Replay()
}

// errNoHijack: the SSE writer pool needs the raw HTTP/1.1 connection.
var errNoHijack = fault.New(fault.ErrInvalid, "event streams are served over HTTP/1.1 only")

// attach hands the connection to the SSE writer pool: the response is
// written by hand (status, headers, then events until either side closes)
// and this handler's goroutine and buffers are released. It reports false,
// having written nothing, if the connection cannot be taken over.
func (a *API) attach(w http.ResponseWriter, sess *channel.Session) bool {
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
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(okBody)
}

// okBody answers every accepted publish; encoded once.
var okBody = []byte(`{"code":200,"message":"OK"}` + "\n")

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
