package engine

import (
	"context"
	"testing"
	"time"
)

// lostProbe is a real engine with small history limits and helpers to
// publish to it and ask Lost.
type lostProbe struct {
	t *testing.T
	e *Engine
}

func newLostProbe(t *testing.T, maxAge time.Duration) *lostProbe {
	t.Helper()
	e, err := Open(context.Background(), Config{DataDir: t.TempDir(), Name: "lost-test", HistoryMaxMsgs: 3, HistoryMaxAge: maxAge})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return &lostProbe{t: t, e: e}
}

func (p *lostProbe) publish(stream int64, to string) uint64 {
	p.t.Helper()
	seq, _, err := p.e.Publish(context.Background(), stream, to, []byte(`{}`), "")
	if err != nil {
		p.t.Fatalf("Publish: %v", err)
	}
	return seq
}

func (p *lostProbe) lost(stream int64, user string, after uint64) bool {
	p.t.Helper()
	got, err := p.e.Lost(context.Background(), stream, user, after)
	if err != nil {
		p.t.Fatalf("Lost(%d, %q, %d): %v", stream, user, after, err)
	}
	return got
}

// TestLostByCount checks the retention answer resume relies on when the
// per-subject limit (3 here) trims a stream's broadcasts or a user's
// privates.
func TestLostByCount(t *testing.T) {
	p := newLostProbe(t, time.Hour)
	// Stream 1: five broadcasts, so b1 and b2 were trimmed; user 7 has one
	// private on it. Stream 2: two broadcasts, never trimmed. Stream 3:
	// four privates for user 8, so the first was trimmed.
	b1 := p.publish(1, "")
	p.publish(2, "")
	b2 := p.publish(1, "")
	p1 := p.publish(1, "7")
	b3 := p.publish(1, "")
	p.publish(2, "")
	p.publish(1, "")
	p.publish(1, "")
	for range 4 {
		p.publish(3, "8")
	}

	cases := []struct {
		name   string
		stream int64
		user   string
		after  uint64
		want   bool
	}{
		{"before both trimmed broadcasts", 1, "9", 0, true},
		{"between the trimmed broadcasts", 1, "9", b1, true},
		{"missed exactly the limit: reported, erring towards a loss", 1, "9", b2, true},
		{"right before the oldest kept broadcast", 1, "9", b3 - 1, false},
		{"after the oldest kept broadcast", 1, "9", b3, false},
		{"another stream's trimming moved the log's start: reported, erring towards a loss", 2, "9", 0, true},
		{"untrimmed stream, resumed from the log's start", 2, "9", b1, false},
		{"kept private and kept broadcasts", 1, "7", p1, false},
		{"trimmed private", 3, "8", 0, true},
		{"another user's trimmed privates are not this one's loss", 3, "9", b1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := p.lost(c.stream, c.user, c.after); got != c.want {
				t.Fatalf("Lost(%d, %q, %d) = %v; want %v", c.stream, c.user, c.after, got, c.want)
			}
		})
	}
}

// TestLostByAge checks that messages removed by the age limit count as lost
// for a client that resumes from before them, even once the log is empty.
func TestLostByAge(t *testing.T) {
	p := newLostProbe(t, time.Second)
	first := p.publish(1, "")
	last := p.publish(1, "")
	deadline := time.Now().Add(15 * time.Second)
	for {
		ext, err := p.e.extents(context.Background(), []string{messagesPrefix + ">"})
		if err != nil {
			t.Fatal(err)
		}
		if ext[0].Count == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log still holds %d messages well after its age limit", ext[0].Count)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, after := range []uint64{0, first} {
		if !p.lost(1, "9", after) {
			t.Errorf("Lost(after %d) = false with both messages aged out; want true", after)
		}
	}
	if p.lost(1, "9", last) {
		t.Errorf("Lost(after the last sequence %d) = true; nothing came after it", last)
	}
	// A new message: the log starts after the aged ones again.
	next := p.publish(1, "")
	if !p.lost(1, "9", first) {
		t.Errorf("Lost(after %d) = false; the message after it aged out", first)
	}
	if p.lost(1, "9", next-1) {
		t.Errorf("Lost(after %d) = true; the only message after it is kept", next-1)
	}
}
