package hub

import (
	"strings"
	"sync"
	"testing"
)

func drain(s *Subscriber) ([]string, bool, string) {
	evs, closed, reason := s.Drain(nil)
	var out []string
	for _, e := range evs {
		out = append(out, string(e.AppendTo(nil, s.IDPrefix())))
	}
	return out, closed, reason
}

func TestDeliverRouting(t *testing.T) {
	h := New(0)
	a := NewSubscriber(1, "a", "A-", Limits{Events: 10})
	b := NewSubscriber(1, "b", "B-", Limits{Events: 10})
	other := NewSubscriber(2, "c", "C-", Limits{Events: 10})
	for _, s := range []*Subscriber{a, b, other} {
		h.Join(s)
	}
	h.Deliver(1, "", NewEvent(5, []byte(`"all"`)))
	h.Deliver(1, "b", NewEvent(6, []byte(`"only b"`)))
	h.Notify(1, "", NewNotice([]byte(`"notice"`)))

	tests := []struct {
		sub  *Subscriber
		want []string
	}{
		{a, []string{"id: A-5\ndata: \"all\"\n\n", "data: \"notice\"\n\n"}},
		{b, []string{"id: B-5\ndata: \"all\"\n\n", "id: B-6\ndata: \"only b\"\n\n", "data: \"notice\"\n\n"}},
		{other, nil},
	}
	for _, tc := range tests {
		got, _, _ := drain(tc.sub)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s got %q; want %q", tc.sub.User, got, tc.want)
		}
	}
	if h.TailSeq() != 6 {
		t.Fatalf("TailSeq = %d; want 6", h.TailSeq())
	}
}

// Join must report exactly the sequence after which live delivery starts:
// every event is either at or before `after` (replayed from storage) or
// delivered live, never both and never neither.
func TestJoinBoundaryIsExact(t *testing.T) {
	h := New(0)
	const n = 20000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for seq := uint64(1); seq <= n; seq++ {
			stream := int64(2 - seq%2) // odd: stream 1; even: another stream
			h.Deliver(stream, "", NewEvent(seq, []byte("1")))
		}
	}()
	var subs []*Subscriber
	var afters []uint64
	for i := 0; i < 50; i++ {
		s := NewSubscriber(1, "u", "", Limits{Events: n})
		_, after := h.Join(s)
		subs, afters = append(subs, s), append(afters, after)
	}
	wg.Wait()
	for i, s := range subs {
		evs, _, _ := s.Drain(nil)
		want := afters[i] + 1
		for want%2 != 1 { // stream 1 gets odd sequences
			want++
		}
		for _, e := range evs {
			if e.Seq != want {
				t.Fatalf("subscriber %d (after %d): got seq %d; want %d", i, afters[i], e.Seq, want)
			}
			want += 2
		}
		if want <= n {
			t.Fatalf("subscriber %d stopped at %d; want all up to %d", i, want, n)
		}
	}
}

func TestSlowSubscriberIsClosed(t *testing.T) {
	h := New(0)
	slow := NewSubscriber(1, "s", "", Limits{Events: 3})
	fast := NewSubscriber(1, "f", "", Limits{Events: 100})
	h.Join(slow)
	h.Join(fast)
	for seq := uint64(1); seq <= 10; seq++ {
		h.Deliver(1, "", NewEvent(seq, []byte("1")))
	}
	got, closed, reason := drain(slow)
	if !closed || reason != ReasonSlow || len(got) != 0 {
		t.Fatalf("slow: %d events, closed=%v reason=%q; want 0, true, %q", len(got), closed, reason, ReasonSlow)
	}
	if q, b := slow.Queued(); q != 0 || b != 0 {
		t.Fatalf("slow subscriber still holds %d events, %d bytes", q, b)
	}
	got, closed, _ = drain(fast)
	if closed || len(got) != 10 {
		t.Fatalf("fast: %d events, closed=%v; want 10, false", len(got), closed)
	}
}

func TestPrependAndClose(t *testing.T) {
	h := New(0)
	s := NewSubscriber(1, "u", "P-", Limits{Events: 10})
	_, after := h.Join(s)
	h.Deliver(1, "", NewEvent(after+1, []byte(`"live"`)))
	s.Prepend(NewEvent(after, []byte(`"init"`)))
	h.CloseStream(1, ReasonEnded, NewNotice([]byte(`"bye"`)))
	h.Deliver(1, "", NewEvent(after+2, []byte(`"late"`)))
	got, closed, reason := drain(s)
	want := []string{"id: P-0\ndata: \"init\"\n\n", "id: P-1\ndata: \"live\"\n\n", "data: \"bye\"\n\n"}
	if strings.Join(got, "|") != strings.Join(want, "|") || !closed || reason != ReasonEnded {
		t.Fatalf("got %q closed=%v reason=%q; want %q", got, closed, reason, want)
	}
	h.Leave(s)
	if h.Local(1) != 0 || len(h.Streams()) != 0 {
		t.Fatalf("room not removed after last leave")
	}
}

func TestByteLimit(t *testing.T) {
	h := New(0)
	s := NewSubscriber(1, "s", "", Limits{Events: 1000, Bytes: 100})
	h.Join(s)
	h.Deliver(1, "", NewEvent(1, []byte(`"`+strings.Repeat("x", 40)+`"`))) // 50-byte frame
	if _, closed, _ := s.Drain(nil); closed {
		t.Fatal("closed below the byte limit")
	}
	for seq := uint64(2); seq <= 4; seq++ {
		h.Deliver(1, "", NewEvent(seq, []byte(`"`+strings.Repeat("x", 40)+`"`)))
	}
	if _, closed, reason := s.Drain(nil); !closed || reason != ReasonSlow {
		t.Fatalf("closed=%v reason=%q after 150 bytes queued; want closed as slow", closed, reason)
	}
}

// A history reply that already holds broadcasts the tail has not delivered
// yet keeps them from being delivered live a second time (only their ids
// go out, so a reconnect resumes after them), and only to the connections
// it went to; privates are never held back.
func TestReplyCoversUndeliveredBroadcasts(t *testing.T) {
	h := New(0)
	asker := NewSubscriber(1, "a", "", Limits{Events: 10})
	other := NewSubscriber(1, "b", "", Limits{Events: 10})
	h.Join(asker)
	h.Join(other)
	h.Deliver(1, "", NewEvent(1, []byte(`"b1"`)))
	h.Reply(1, "a", NewNotice([]byte(`"history up to 3"`)), 3)
	h.Deliver(1, "a", NewEvent(2, []byte(`"private"`)))
	h.Deliver(1, "", NewEvent(3, []byte(`"b3"`)))
	h.Deliver(1, "", NewEvent(4, []byte(`"b4"`)))

	got, _, _ := drain(asker)
	want := []string{"id: 1\ndata: \"b1\"\n\n", "data: \"history up to 3\"\n\n", "id: 2\ndata: \"private\"\n\n", "id: 3\n\n", "id: 4\ndata: \"b4\"\n\n"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("asker got %q; want %q", got, want)
	}
	got, _, _ = drain(other)
	if len(got) != 3 {
		t.Errorf("other subscriber got %q; want b1, b3 and b4", got)
	}
}
