package httpapi

import (
	"net/http"
	"strings"
)

// routes lists every endpoint in one place.
func (a *API) routes() *http.ServeMux {
	mux := http.NewServeMux()

	// The channel (PROTOCOL.md part A).
	mux.HandleFunc("GET /subscribe/{stream}", a.subscribe)
	mux.HandleFunc("POST /publish/{stream}", a.publish)

	// Management API.
	mux.Handle("POST /v1/keys/accesstoken", a.authed(a.createAccessToken))
	mux.Handle("POST /v1/keys", a.authed(a.createKey))
	mux.Handle("GET /v1/keys", a.authed(a.listKeys))
	mux.Handle("DELETE /v1/keys/{id}", a.authed(a.deleteKey))
	mux.Handle("POST /v1/accounts", a.authed(a.createAccount))
	mux.Handle("GET /v1/accounts", a.authed(a.listAccounts))

	mux.Handle("POST /v1/streams/create", a.authed(a.createStream))
	mux.Handle("GET /v1/streams", a.authed(a.listStreams))
	mux.Handle("GET /v1/streams/{id}", a.authed(a.getStream))
	mux.Handle("POST /v1/streams/{id}/prepare", a.authed(a.streamAction(a.cfg.Streams.Prepare)))
	mux.Handle("POST /v1/streams/{id}/start", a.authed(a.streamAction(a.cfg.Streams.Start)))
	mux.Handle("POST /v1/streams/{id}/end", a.authed(a.streamAction(a.cfg.Streams.End)))

	mux.Handle("POST /v1/widgets", a.authed(a.createWidget))
	mux.Handle("GET /v1/widgets", a.authed(a.listWidgets))
	mux.Handle("GET /v1/widgets/{id}", a.authed(a.getWidget))
	mux.Handle("PATCH /v1/widgets/{id}", a.authed(a.updateWidget))
	mux.Handle("DELETE /v1/widgets/{id}", a.authed(a.deleteWidget))
	mux.Handle("POST /v1/widgets/{id}/key", a.authed(a.regenerateWidgetKey))
	mux.Handle("POST /v1/widgets/{id}/webhook-secret", a.authed(a.regenerateWebhookSecret))

	// Operations.
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.healthz)
	mux.HandleFunc("GET /debug/vars", a.debugVars)

	if a.cfg.Extra != nil {
		a.cfg.Extra(mux)
	}
	// Anything else: a JSON 405 or 404, never a plain-text page. The
	// catch-all is matched only when no pattern takes the method and path,
	// so the routes above cost nothing extra.
	mux.HandleFunc(catchAll, a.unrouted(mux))
	return mux
}

const catchAll = "/"

// unrouted answers a request no route takes: 405 with an Allow header when
// the path has routes under other methods (GET /publish/1), else 404.
// CORS preflights never get here; the cors middleware answers them.
func (a *API) unrouted(mux *http.ServeMux) http.HandlerFunc {
	// The methods tried on the path, in Allow order.
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	return func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range methods {
			probe := r.WithContext(r.Context()) // shallow copy
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != catchAll && pattern != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) == 0 {
			a.notFound(w, r)
			return
		}
		list := strings.Join(allow, ", ")
		w.Header().Set("Allow", list)
		writeJSON(w, http.StatusMethodNotAllowed, reply{Code: http.StatusMethodNotAllowed,
			Message: "method " + r.Method + " is not allowed on " + r.URL.Path + "; use " + list})
	}
}
