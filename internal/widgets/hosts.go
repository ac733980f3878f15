package widgets

import (
	"net"
	"strconv"
	"strings"

	"github.com/tidings/tidings/internal/fault"
)

// normalizeHosts validates the hosts a widget's webhooks may call: exact
// names or "*.example.com" wildcards, each optionally with ":port".
func normalizeHosts(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool)
	for _, h := range in {
		h = strings.ToLower(strings.TrimSpace(h))
		if err := checkHostPattern(h); err != nil {
			return nil, err
		}
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out, nil
}

func checkHostPattern(p string) error {
	bad := func(why string) error {
		return fault.Errorf(fault.ErrInvalid, "webhook_hosts entry %q is invalid: %s (use a host name like api.example.com or *.example.com, optionally with :port)", p, why)
	}
	if p == "" {
		return bad("empty")
	}
	if strings.Contains(p, "/") {
		return bad("give a host, not a URL")
	}
	host, port := p, ""
	if h, pt, err := net.SplitHostPort(p); err == nil {
		host, port = h, pt
		if port == "" {
			// "x.com:" would be stored as typed and match every port.
			return bad("nothing after \":\"; give a port or drop the colon")
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return bad("port must be 1-65535")
		}
	}
	name := strings.TrimPrefix(host, "*.")
	if name == "" || strings.Contains(name, "*") {
		return bad("a wildcard may only be a leading \"*.\"")
	}
	if net.ParseIP(strings.Trim(name, "[]")) != nil {
		return nil
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return bad("empty or overlong label")
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return bad("unexpected character " + strconv.QuoteRune(c))
			}
		}
	}
	return nil
}

// HostAllowed reports whether host (and port, "" for the scheme's default)
// matches one of the widget's allowed host patterns.
func (w Widget) HostAllowed(host, port string) bool {
	host = strings.ToLower(host)
	for _, p := range w.WebhookHosts {
		ph, pp := p, ""
		if h, pt, err := net.SplitHostPort(p); err == nil {
			ph, pp = h, pt
		}
		if pp != "" && pp != port {
			continue
		}
		if strings.HasPrefix(ph, "*.") {
			if strings.HasSuffix(host, ph[1:]) && len(host) > len(ph)-1 {
				return true
			}
			continue
		}
		if strings.Trim(ph, "[]") == strings.Trim(host, "[]") {
			return true
		}
	}
	return false
}
