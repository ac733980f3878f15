package channel

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tidings/tidings/internal/hub"
	"github.com/tidings/tidings/internal/store"
)

// seqs renders events as their sequences, for comparison.
func seqs(evs []*hub.Event) string {
	var b strings.Builder
	for i, ev := range evs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, ev.Seq)
	}
	return b.String()
}

func TestRecentSince(t *testing.T) {
	c := newRecent(4, 1<<20)
	c.begin(10)
	// Stream 1: broadcasts 11, 13, 15, 16 and a private for user u at 12;
	// stream 2: one broadcast at 14. Four per stream are kept, so 11 is
	// evicted once 16 arrives.
	for _, r := range []store.Record{
		{Seq: 11, Stream: 1},
		{Seq: 12, Stream: 1, ToUser: "u"},
		{Seq: 13, Stream: 1},
		{Seq: 14, Stream: 2},
		{Seq: 15, Stream: 1},
		{Seq: 16, Stream: 1},
	} {
		c.add(r, hub.NewEvent(r.Seq, []byte(`{}`)))
	}
	cases := []struct {
		name        string
		stream      int64
		user        string
		after, upTo uint64
		want        string
		wantOK      bool
	}{
		{"evicted message needed", 1, "u", 10, 16, "", false},
		{"from the eviction point", 1, "u", 11, 16, "12 13 15 16", true},
		{"another user's private left out", 1, "v", 11, 16, "13 15 16", true},
		{"up to the join point only", 1, "u", 11, 13, "12 13", true},
		{"nothing missed", 1, "u", 16, 16, "", true},
		{"other stream, from the tail's start", 2, "u", 10, 16, "14", true},
		{"quiet stream since the start", 3, "u", 10, 16, "", true},
		{"quiet stream, gap before the start", 3, "u", 9, 16, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs, ok := c.since(tc.stream, tc.user, tc.after, tc.upTo)
			if got := seqs(evs); got != tc.want || ok != tc.wantOK {
				t.Fatalf("since(%d, %q, %d, %d) = %q, %v; want %q, %v", tc.stream, tc.user, tc.after, tc.upTo, got, ok, tc.want, tc.wantOK)
			}
		})
	}

	t.Run("ended stream forgotten", func(t *testing.T) {
		c.forget(1)
		if evs, ok := c.since(1, "u", 9, 16); ok || len(evs) > 0 {
			t.Fatalf("since after forget = %q, %v; want nothing, false", seqs(evs), ok)
		}
	})
}

func TestRecentBytesBound(t *testing.T) {
	big := []byte(`"` + strings.Repeat("x", 98) + `"`) // 100 bytes of JSON
	c := newRecent(100, 250)
	c.begin(0)
	for seq := uint64(1); seq <= 5; seq++ {
		c.add(store.Record{Seq: seq, Stream: 1}, hub.NewEvent(seq, big))
	}
	evs, ok := c.since(1, "", 3, 5)
	if !ok || seqs(evs) != "4 5" {
		t.Fatalf("since(after 3) = %q, %v; want \"4 5\", true", seqs(evs), ok)
	}
	if _, ok := c.since(1, "", 2, 5); ok {
		t.Fatal("since(after 2) ok; message 3 was evicted by the byte bound")
	}
}

func TestRecentDisabled(t *testing.T) {
	c := newRecent(-1, 1<<20)
	c.begin(0)
	c.add(store.Record{Seq: 1, Stream: 1}, hub.NewEvent(1, []byte(`{}`)))
	if _, ok := c.since(1, "", 0, 1); ok {
		t.Fatal("since ok with the buffer disabled; want every resume read from the engine")
	}
	if _, ok := c.since(2, "", 0, 1); ok {
		t.Fatal("since ok for a quiet stream with the buffer disabled")
	}
}

// The ring wraps around many times and still answers in log order.
func TestRecentWrapsAround(t *testing.T) {
	c := newRecent(3, 1<<20)
	c.begin(0)
	for seq := uint64(1); seq <= 100; seq++ {
		c.add(store.Record{Seq: seq, Stream: 1}, hub.NewEvent(seq, []byte(`{}`)))
		if seq < 4 {
			continue
		}
		evs, ok := c.since(1, "", seq-3, seq)
		if want := fmt.Sprintf("%d %d %d", seq-2, seq-1, seq); !ok || seqs(evs) != want {
			t.Fatalf("after %d: since = %q, %v; want %q, true", seq, seqs(evs), ok, want)
		}
		if _, ok := c.since(1, "", seq-4, seq); ok {
			t.Fatalf("after %d: since(after %d) ok; that message was evicted", seq, seq-4)
		}
	}
}
