package webhooks

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tidings/tidings/internal/fault"
	"github.com/tidings/tidings/internal/widgets"
)

func TestTargetURL(t *testing.T) {
	w := widgets.Widget{WebhookHosts: []string{"api.example.com", "*.hooks.example.org", "svc.example.net:8443", "[::1]:9000"}}
	tests := []struct {
		name      string
		message   string
		allowHTTP bool
		kind      error  // nil: accepted
		want      string // substring of the error, or the accepted URL
	}{
		{"exact host", `{"url":"https://api.example.com/a?b=1"}`, false, nil, "https://api.example.com/a?b=1"},
		{"upper-case host", `{"url":"https://API.Example.com/"}`, false, nil, "https://API.Example.com/"},
		{"wildcard", `{"url":"https://eu.hooks.example.org/x"}`, false, nil, "https://eu.hooks.example.org/x"},
		{"pinned port", `{"url":"https://svc.example.net:8443/"}`, false, nil, "https://svc.example.net:8443/"},
		{"fragment dropped", `{"url":"https://api.example.com/#frag"}`, false, nil, "https://api.example.com/"},
		{"other fields kept out", `{"url":"https://api.example.com/","data":{"n":1}}`, false, nil, "https://api.example.com/"},
		{"http allowed", `{"url":"http://api.example.com/"}`, true, nil, "http://api.example.com/"},
		{"ipv6 literal", `{"url":"http://[::1]:9000/"}`, true, nil, "http://[::1]:9000/"},

		{"host not listed", `{"url":"https://evil.example.com/"}`, false, fault.ErrForbidden, `"evil.example.com:443"`},
		{"wildcard is not the apex", `{"url":"https://hooks.example.org/"}`, false, fault.ErrForbidden, "hooks.example.org"},
		{"wrong port", `{"url":"https://svc.example.net/"}`, false, fault.ErrForbidden, "svc.example.net:443"},
		{"suffix trick", `{"url":"https://api.example.com.evil.net/"}`, false, fault.ErrForbidden, "api.example.com.evil.net"},
		{"metadata", `{"url":"http://169.254.169.254/latest/meta-data"}`, true, fault.ErrForbidden, "169.254.169.254"},
		{"http refused", `{"url":"http://api.example.com/"}`, false, fault.ErrInvalid, "https"},
		{"other scheme", `{"url":"ftp://api.example.com/x"}`, true, fault.ErrInvalid, "scheme"},
		{"no host", `{"url":"file:///etc/passwd"}`, true, fault.ErrInvalid, "absolute"},
		{"credentials", `{"url":"https://u:p@api.example.com/"}`, false, fault.ErrInvalid, "password"},
		{"relative", `{"url":"/hook"}`, false, fault.ErrInvalid, "absolute"},
		{"bad port", `{"url":"https://api.example.com:99999/"}`, false, fault.ErrInvalid, "port"},
		{"no url", `{"data":1}`, false, fault.ErrInvalid, "message.url is required"},
		{"url not a string", `{"url":5}`, false, fault.ErrInvalid, "message.url is required"},
		{"message a string", `"https://api.example.com/"`, false, fault.ErrInvalid, "message.url is required"},
		{"too long", `{"url":"https://api.example.com/` + strings.Repeat("a", 3000) + `"}`, false, fault.ErrInvalid, "longer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := targetURL(json.RawMessage(tc.message), w, tc.allowHTTP)
			if tc.kind == nil {
				if err != nil || u.String() != tc.want {
					t.Fatalf("targetURL = %v, %v; want %s", u, err, tc.want)
				}
				return
			}
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want a %v error mentioning %q", err, tc.kind, tc.want)
			}
		})
	}
}

func TestNewDeliveryID(t *testing.T) {
	a, b := newDeliveryID(1, "7", ""), newDeliveryID(1, "7", "")
	if a == b || !strings.HasPrefix(a, "wh_") || len(a) != 29 {
		t.Fatalf("random ids %q, %q; want distinct wh_ + 26 characters", a, b)
	}
	k1, k2 := newDeliveryID(1, "7", "key"), newDeliveryID(1, "7", "key")
	if k1 != k2 || k1 == newDeliveryID(1, "8", "key") || k1 == newDeliveryID(2, "7", "key") {
		t.Fatalf("idempotent ids must repeat for the same stream, user and key only")
	}
}

func TestResultBody(t *testing.T) {
	tests := []struct {
		name string
		r    response
		want string
	}{
		{"json", response{body: []byte(`{"a":1}`), json: true}, `{"a":1}`},
		{"json type, not json", response{body: []byte(`{"a":`), json: true}, `"{\"a\":"`},
		{"truncated json", response{body: []byte(`{"a":1`), json: true, truncated: true}, `"{\"a\":1"`},
		{"text", response{body: []byte("hello")}, `"hello"`},
		{"invalid utf-8", response{body: []byte{0xff, 'a'}}, "\"\uFFFDa\""},
		{"empty", response{}, ``},
	}
	for _, tc := range tests {
		if got := string(resultBody(tc.r)); got != tc.want {
			t.Errorf("%s: resultBody = %s; want %s", tc.name, got, tc.want)
		}
	}
}
