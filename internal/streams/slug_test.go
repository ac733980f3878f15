package streams

import "testing"

func TestSlugify(t *testing.T) {
	tests := []struct{ in, want string }{
		{"My Great Show!", "my-great-show"},
		{"  Friday -- night  ", "friday-night"},
		{"Ünïcode & more", "n-code-more"},
		{"already-a-slug", "already-a-slug"},
		{"!!!", ""},
	}
	for _, tc := range tests {
		if got := Slugify(tc.in); got != tc.want {
			t.Errorf("Slugify(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}
