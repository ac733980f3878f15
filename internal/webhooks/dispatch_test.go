package webhooks

import (
	"testing"
	"time"
)

func TestBackoffDoublesWithinBounds(t *testing.T) {
	s := New(Config{Backoff: time.Second, MaxBackoff: time.Minute})
	for _, tc := range []struct {
		attempt int
		want    time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {6, 32 * time.Second}, {7, time.Minute}, {1000, time.Minute}} {
		got := s.backoff(tc.attempt)
		if got < tc.want || got > tc.want+tc.want/10 {
			t.Errorf("backoff(%d) = %v; want %v plus up to 10%%", tc.attempt, got, tc.want)
		}
	}
	for d, want := range map[int]time.Duration{1: 200 * time.Millisecond, 3: 800 * time.Millisecond, 50: 5 * time.Second} {
		if got := deferral(d); got != want {
			t.Errorf("deferral(%d) = %v; want %v", d, got, want)
		}
	}
}
