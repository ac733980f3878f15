// Package fault owns the error kinds that Tidings reports to clients.
//
// Domain packages return errors made with New or Errorf; each wraps one of the
// kind sentinels below, which the HTTP layer maps to a status code in a single
// table. The error's text is written for the person reading the response, so it
// must never carry secrets or internal causes: those are logged, not returned.
package fault

import (
	"errors"
	"fmt"
	"time"
)

// Kinds of failure. Test with errors.Is.
var (
	ErrInvalid        = errors.New("invalid request")         // 400
	ErrUnauthorized   = errors.New("unauthorized")            // 401
	ErrForbidden      = errors.New("forbidden")               // 403
	ErrNotFound       = errors.New("not found")               // 404
	ErrConflict       = errors.New("conflict")                // 409
	ErrGone           = errors.New("gone")                    // 410
	ErrTooLarge       = errors.New("request too large")       // 413
	ErrRateLimited    = errors.New("too many requests")       // 429
	ErrNotImplemented = errors.New("not implemented")         // 501
	ErrUnavailable    = errors.New("temporarily unavailable") // 503
)

// Error is a client-facing error: Msg is safe to show, Kind classifies it.
type Error struct {
	Kind error
	Msg  string
	// RetryAfter, when set, tells the client when to try again (the
	// Retry-After header of a 429 or 503).
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Msg }

// Unwrap exposes the kind so errors.Is(err, fault.ErrNotFound) works.
func (e *Error) Unwrap() error { return e.Kind }

// New returns an error of the given kind with a fixed message. Use it for
// package-level sentinels that callers compare with errors.Is.
func New(kind error, msg string) *Error { return &Error{Kind: kind, Msg: msg} }

// RetryLater returns err's kind and message with a retry hint.
func RetryLater(e *Error, after time.Duration) *Error {
	return &Error{Kind: e.Kind, Msg: e.Msg, RetryAfter: after}
}

// Errorf returns an error of the given kind with a formatted message.
func Errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}
