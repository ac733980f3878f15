package server

import "testing"

func TestBrowserURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://[::]:8080", "http://127.0.0.1:8080"},
		{"http://0.0.0.0:9000", "http://127.0.0.1:9000"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"http://192.0.2.7:80", "http://192.0.2.7:80"},
	} {
		if got := browserURL(c.in); got != c.want {
			t.Errorf("browserURL(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}
