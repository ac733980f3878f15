package httpapi

import "net/http"

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
	// Anything else: a JSON 404 (or 405), never an HTML page.
	mux.HandleFunc("/", a.notFound)
	return mux
}
