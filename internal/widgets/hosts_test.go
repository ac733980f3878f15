package widgets

import (
	"strings"
	"testing"
)

func TestNormalizeHosts(t *testing.T) {
	tests := []struct {
		in      []string
		want    string // joined; "" with wantErr
		wantErr string
	}{
		{[]string{"API.Example.com", " api.example.com "}, "api.example.com", ""},
		{[]string{"*.example.com", "hooks.example.org:8443", "127.0.0.1:9000", "[::1]:80"}, "*.example.com,hooks.example.org:8443,127.0.0.1:9000,[::1]:80", ""},
		{[]string{"https://x.com/path"}, "", "give a host, not a URL"},
		{[]string{""}, "", "empty"},
		{[]string{"a.*.com"}, "", "wildcard"},
		{[]string{"x.com:0"}, "", "port must be"},
		{[]string{"x.com:"}, "", "give a port or drop the colon"},
		{[]string{"[::1]:"}, "", "give a port or drop the colon"},
		{[]string{"bad_host.com"}, "", "unexpected character"},
	}
	for _, tc := range tests {
		got, err := normalizeHosts(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("normalizeHosts(%q) err = %v; want one mentioning %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || strings.Join(got, ",") != tc.want {
			t.Errorf("normalizeHosts(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestHostAllowed(t *testing.T) {
	w := Widget{WebhookHosts: []string{"api.example.com", "*.hooks.example.org", "pinned.example.net:8443", "[::1]:9000"}}
	tests := []struct {
		host, port string
		want       bool
	}{
		{"api.example.com", "443", true},
		{"API.example.com", "", true},
		{"other.example.com", "443", false},
		{"a.hooks.example.org", "443", true},
		{"a.b.hooks.example.org", "80", true},
		{"hooks.example.org", "443", false}, // the wildcard needs a label
		{"evilhooks.example.org", "443", false},
		{"pinned.example.net", "8443", true},
		{"pinned.example.net", "443", false},
		{"::1", "9000", true},
		{"[::1]", "9000", true},
		{"::1", "9001", false},
	}
	for _, tc := range tests {
		if got := w.HostAllowed(tc.host, tc.port); got != tc.want {
			t.Errorf("HostAllowed(%q, %q) = %v; want %v", tc.host, tc.port, got, tc.want)
		}
	}
}
