package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tidings/tidings/internal/accounts"
	"github.com/tidings/tidings/internal/channel"
	"github.com/tidings/tidings/internal/fault"
	"github.com/tidings/tidings/internal/sse"
	"github.com/tidings/tidings/internal/streams"
	"github.com/tidings/tidings/internal/widgets"
)

// Config holds the API's dependencies and limits.
type Config struct {
	Channel  *channel.Service
	Streams  *streams.Service
	Widgets  *widgets.Service
	Accounts *accounts.Service
	Logger   *slog.Logger

	// Ready reports whether subscribes and publishes can be served.
	Ready func() bool
	// MaxBody bounds a publish or API request body (default 64 KiB).
	MaxBody int64
	// Retry is the reconnect delay suggested to EventSource (default 2s).
	Retry time.Duration
	// SendBuffer caps the kernel send buffer of each SSE socket (default
	// 64 KiB), so a client that stops reading pins little memory and is
	// found out quickly by the pool's write timeout.
	SendBuffer int
	// SSE takes over subscriber connections after their headers (see
	// package sse). Required.
	SSE *sse.Server
	// Extra mounts more handlers (Studio, SDK, examples) on the mux.
	Extra func(mux *http.ServeMux)
}

// API serves HTTP.
type API struct {
	cfg Config
	log *slog.Logger
}

// New returns the API with defaults filled in.
func New(cfg Config) *API {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 64 << 10
	}
	if cfg.Retry <= 0 {
		cfg.Retry = 2 * time.Second
	}
	if cfg.SendBuffer <= 0 {
		cfg.SendBuffer = 64 << 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Ready == nil {
		cfg.Ready = func() bool { return true }
	}
	return &API{cfg: cfg, log: cfg.Logger}
}

// Handler returns the complete HTTP handler.
func (a *API) Handler() http.Handler {
	return a.accessLog(cors(a.routes()))
}

// readBody reads a request body within the size limit.
func (a *API) readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > a.cfg.MaxBody {
		return nil, a.tooLarge()
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, a.cfg.MaxBody+1))
	if err != nil {
		return nil, fault.New(fault.ErrInvalid, "request body could not be read")
	}
	if int64(len(b)) > a.cfg.MaxBody {
		return nil, a.tooLarge()
	}
	return b, nil
}

func (a *API) tooLarge() error {
	return fault.Errorf(fault.ErrTooLarge, "request body is larger than the limit of %d bytes", a.cfg.MaxBody)
}

// pathID parses the {id} (or named) path value as a positive number.
func pathID(r *http.Request, name, what string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.Errorf(fault.ErrNotFound, "%s %q not found: ids are positive numbers", what, v)
	}
	return id, nil
}

// principal authenticates a management request.
func (a *API) principal(r *http.Request) (accounts.Principal, error) {
	auth := r.Header.Get("Authorization")
	bearer, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		bearer, _ = strings.CutPrefix(auth, "bearer ")
	}
	return a.cfg.Accounts.Authenticate(r.Context(), strings.TrimSpace(bearer))
}

// authed wraps a management handler with authentication. An expired access
// token is flagged with X-Access-Token-Expired, as the compatible API does.
func (a *API) authed(h func(w http.ResponseWriter, r *http.Request, p accounts.Principal) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.principal(r)
		if errors.Is(err, accounts.ErrTokenExpired) {
			w.Header().Set("X-Access-Token-Expired", "true")
		}
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		if err := h(w, r.WithContext(ctx), p); err != nil {
			a.writeError(w, r, err)
		}
	})
}
