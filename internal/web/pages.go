package web

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
)

//go:embed landing.html
var landingHTML string

// demo returns the demo setup, or nil without --demo or when it cannot be
// read (logged: the pages then ask for a stream and key instead).
func (s *Site) demo(r *http.Request) *Demo {
	if s.cfg.Demo == nil {
		return nil
	}
	d, err := s.cfg.Demo(r.Context())
	if err != nil {
		s.log.Warn("web: reading the demo setup", "err", err)
		return nil
	}
	return &d
}

// serveLanding serves the start page: what this server is, and links to the
// examples, the SDK and the docs.
func (s *Site) serveLanding(w http.ResponseWriter, r *http.Request) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	data := struct {
		Demo *Demo
		Base string
	}{s.demo(r), scheme + "://" + r.Host}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.landing.Execute(w, data); err != nil {
		s.log.Warn("web: landing page", "err", err)
	}
}

// serveConfig serves /examples/config.js, the examples' defaults. The base
// URL is worked out in the browser from the module's own address, so it is
// right behind proxies and from other origins alike.
func (s *Site) serveConfig(w http.ResponseWriter, r *http.Request) {
	stream, key := []byte("null"), []byte("null")
	if d := s.demo(r); d != nil {
		stream = []byte(fmt.Sprint(d.StreamID))
		key, _ = json.Marshal(d.WidgetKey) // escapes <, > and & too
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, `// Made by the Tidings server: what the examples start with. Under
// "tidings serve --demo" that is the demo stream; otherwise the examples take
// ?stream=…&key=… from their address, or ask.
export default {
  baseUrl: new URL('..', import.meta.url).href.replace(/\/+$/, ''),
  streamId: %s,
  widgetKey: %s,
};
`, stream, key)
}
