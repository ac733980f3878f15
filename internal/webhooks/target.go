package webhooks

import (
	"encoding/json"
	"net"
	"net/url"
	"strconv"

	"github.com/tidings/tidings/internal/fault"
	"github.com/tidings/tidings/internal/widgets"
)

// maxURL bounds a webhook URL's length.
const maxURL = 2048

// ErrNoURL is returned for a webhook message without a usable url field.
var ErrNoURL = fault.New(fault.ErrInvalid, `message.url is required for type "webhook": a JSON object message with the https URL to call, e.g. {"url":"https://api.example.com/hook"}`)

// targetURL reads message.url and checks it against the widget's rules.
func targetURL(message json.RawMessage, w widgets.Widget, allowHTTP bool) (*url.URL, error) {
	var m struct {
		URL string `json:"url"`
	}
	if json.Unmarshal(message, &m) != nil || m.URL == "" {
		return nil, ErrNoURL
	}
	if len(m.URL) > maxURL {
		return nil, fault.Errorf(fault.ErrInvalid, "message.url is longer than %d bytes", maxURL)
	}
	u, err := url.Parse(m.URL)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil, fault.New(fault.ErrInvalid, "message.url is not an absolute URL such as https://api.example.com/hook")
	}
	if err := allowedURL(u, w, allowHTTP); err != nil {
		return nil, err
	}
	u.Fragment, u.RawFragment = "", "" // never sent anyway
	return u, nil
}

// allowedURL checks a URL's scheme and host against the widget's allowed
// hosts. Publishes are checked with it, and so is every redirect.
func allowedURL(u *url.URL, w widgets.Widget, allowHTTP bool) error {
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowHTTP:
	case u.Scheme == "http":
		return fault.New(fault.ErrInvalid, "webhook URLs must use https on this server")
	default:
		return fault.Errorf(fault.ErrInvalid, "webhook URL scheme %q is not supported: use https", u.Scheme)
	}
	if u.User != nil {
		return fault.New(fault.ErrInvalid, "webhook URLs must not carry a user name or password")
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return fault.New(fault.ErrInvalid, "webhook URL has no host")
	}
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fault.Errorf(fault.ErrInvalid, "webhook URL port %q is not valid", port)
	}
	if !w.HostAllowed(host, port) {
		return fault.Errorf(fault.ErrForbidden,
			"webhook host %q is not allowed for this widget: its owner must add it to the widget's webhook_hosts",
			net.JoinHostPort(host, port))
	}
	return nil
}
