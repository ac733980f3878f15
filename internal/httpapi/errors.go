package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/tidings/tidings/internal/fault"
)

// statusOf is the one table from error kinds to HTTP status codes.
var statusOf = []struct {
	kind   error
	status int
}{
	{fault.ErrInvalid, http.StatusBadRequest},
	{fault.ErrUnauthorized, http.StatusUnauthorized},
	{fault.ErrForbidden, http.StatusForbidden},
	{fault.ErrNotFound, http.StatusNotFound},
	{fault.ErrConflict, http.StatusConflict},
	{fault.ErrGone, http.StatusGone},
	{fault.ErrTooLarge, http.StatusRequestEntityTooLarge},
	{fault.ErrRateLimited, http.StatusTooManyRequests},
	{fault.ErrNotImplemented, http.StatusNotImplemented},
	{fault.ErrUnavailable, http.StatusServiceUnavailable},
}

// reply is every JSON response body: code equals the HTTP status.
type reply struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"code":500,"message":"internal error: response could not be encoded"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeOK answers 200 with data (omitted when nil).
func writeOK(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, reply{Code: http.StatusOK, Message: "OK", Data: data})
}

// writeError answers with the status of err's kind and its client-facing
// message. Errors of no known kind are logged and answered with a generic
// 500, so internal causes never reach the client.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	msg := "internal error; it has been logged"
	var fe *fault.Error
	for _, e := range statusOf {
		if errors.Is(err, e.kind) {
			status = e.status
			if errors.As(err, &fe) {
				msg = fe.Msg
				if fe.RetryAfter > 0 {
					secs := int((fe.RetryAfter + time.Second - 1) / time.Second)
					w.Header().Set("Retry-After", strconv.Itoa(secs))
				}
			} else {
				msg = e.kind.Error()
			}
			break
		}
	}
	if status == http.StatusInternalServerError {
		a.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	writeJSON(w, status, reply{Code: status, Message: msg})
}
