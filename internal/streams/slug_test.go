package streams

import (
	"strings"
	"testing"
)

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

func TestGivenSlug(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{"", "", ""},
		{"   ", "", ""}, // blank: not given
		{"Custom Slug", "custom-slug", ""},
		{"!!!", "", "has no letters or digits"},
		{"日本語", "", "has no letters or digits"},
		{strings.Repeat("a", 201), "", "longer than 200"},
	}
	for _, tc := range tests {
		got, err := givenSlug(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("givenSlug(%q) err = %v; want one mentioning %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("givenSlug(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestNameSlug(t *testing.T) {
	tests := []struct {
		name string
		id   int64
		want string
	}{
		{"My Great Show!", 7, "my-great-show"},
		{"!!!", 7, "stream-7"},
		{"日本語の番組", 12, "stream-12"},
	}
	for _, tc := range tests {
		if got := nameSlug(tc.name, tc.id); got != tc.want {
			t.Errorf("nameSlug(%q, %d) = %q; want %q", tc.name, tc.id, got, tc.want)
		}
	}
}
