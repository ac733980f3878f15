package client

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// readAll collects every event until an error and returns that error.
func readAll(r io.Reader) ([]Event, *EventReader, error) {
	er := NewEventReader(r)
	var evs []Event
	for {
		ev, err := er.Next()
		if err != nil {
			return evs, er, err
		}
		evs = append(evs, ev)
	}
}

func TestEventReader(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   []Event
		lastID string
		retry  time.Duration
	}{
		{name: "empty", in: ""},
		{
			name: "single data",
			in:   "data: hello\n\n",
			want: []Event{{Data: "hello"}},
		},
		{
			name: "multi-line data joined with LF",
			in:   "data: a\ndata: b\ndata:c\n\n",
			want: []Event{{Data: "a\nb\nc"}},
		},
		{
			name: "only one leading space stripped",
			in:   "data:  two spaces\n\n",
			want: []Event{{Data: " two spaces"}},
		},
		{
			name: "empty data line is dispatched",
			in:   "data\n\ndata:\n\n",
			want: []Event{{Data: ""}, {Data: ""}},
		},
		{
			name: "data with colon in value",
			in:   `data: {"a":"b:c"}` + "\n\n",
			want: []Event{{Data: `{"a":"b:c"}`}},
		},
		{
			name:   "id and event",
			in:     "id: 7\nevent: ping\ndata: x\n\n",
			want:   []Event{{ID: "7", Type: "ping", Data: "x"}},
			lastID: "7",
		},
		{
			name: "id persists, event type resets",
			in:   "id: 1\nevent: e\ndata: a\n\ndata: b\n\nid\ndata: c\n\n",
			want: []Event{
				{ID: "1", Type: "e", Data: "a"},
				{ID: "1", Data: "b"},
				{ID: "", Data: "c"},
			},
		},
		{
			name:   "id with NUL ignored",
			in:     "id: 1\n\nid: a\x00b\ndata: x\n\n",
			want:   []Event{{ID: "1", Data: "x"}},
			lastID: "1",
		},
		{
			name:   "id-only block is not dispatched but sets last id",
			in:     "id: 9\n\n",
			lastID: "9",
		},
		{
			name: "comments ignored",
			in:   ": heartbeat\n:\ndata: x\n: inside\n\n: trailing\n\n",
			want: []Event{{Data: "x"}},
		},
		{
			name:  "retry",
			in:    "retry: 3000\n\ndata: x\n\n",
			want:  []Event{{Data: "x"}},
			retry: 3 * time.Second,
		},
		{
			name:  "invalid retry ignored",
			in:    "retry: 1000\nretry: 2s\nretry: -5\nretry:\ndata: x\n\n",
			want:  []Event{{Data: "x"}},
			retry: time.Second,
		},
		{
			name: "unknown fields ignored",
			in:   "foo: bar\nData: no\ndata: yes\n\n",
			want: []Event{{Data: "yes"}},
		},
		{
			name:   "CRLF line endings",
			in:     "id: 2\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n",
			want:   []Event{{ID: "2", Data: "a\nb"}, {ID: "2", Data: "c"}},
			lastID: "2",
		},
		{
			name: "lone CR line endings",
			in:   "data: a\rdata: b\r\rdata: c\r\r",
			want: []Event{{Data: "a\nb"}, {Data: "c"}},
		},
		{
			name: "mixed line endings",
			in:   "data: a\r\ndata: b\rdata: c\n\r\n",
			want: []Event{{Data: "a\nb\nc"}},
		},
		{
			name: "leading BOM dropped",
			in:   "\uFEFFdata: x\n\n",
			want: []Event{{Data: "x"}},
		},
		{
			name: "incomplete final event discarded",
			in:   "data: a\n\ndata: b\n",
			want: []Event{{Data: "a"}},
		},
		{
			name: "unterminated final line discarded",
			in:   "data: a\n\ndata: b",
			want: []Event{{Data: "a"}},
		},
		{
			name: "blank lines between events",
			in:   "\n\n\ndata: a\n\n\n\ndata: b\n\n",
			want: []Event{{Data: "a"}, {Data: "b"}},
		},
		{
			name: "tidings envelope",
			in: "retry: 2000\n: connected\nid: 15-1\n" +
				`data: {"stream_id":"15","type":"init","message":{"token":"t"}}` + "\n\n",
			want:   []Event{{ID: "15-1", Data: `{"stream_id":"15","type":"init","message":{"token":"t"}}`}},
			lastID: "15-1",
			retry:  2 * time.Second,
		},
	}
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"byte-at-a-time", iotest.OneByteReader},
		{"half", iotest.HalfReader},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				got, er, err := readAll(rd.wrap(strings.NewReader(tt.in)))
				if !errors.Is(err, io.EOF) {
					t.Fatalf("final error = %v, want io.EOF", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("events = %#v, want %#v", got, tt.want)
				}
				if tt.lastID != "" && er.LastEventID() != tt.lastID {
					t.Errorf("LastEventID() = %q, want %q", er.LastEventID(), tt.lastID)
				}
				if er.Retry() != tt.retry {
					t.Errorf("Retry() = %v, want %v", er.Retry(), tt.retry)
				}
			})
		}
	}
}

func TestEventReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("data: a\n\ndata: b\n"), iotest.ErrReader(boom))
	got, _, err := readAll(r)
	if !errors.Is(err, boom) {
		t.Fatalf("error = %v, want %v", err, boom)
	}
	if want := []Event{{Data: "a"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("events = %#v, want %#v", got, want)
	}
}

func TestEventReaderLongLine(t *testing.T) {
	long := strings.Repeat("x", 200_000)
	got, _, err := readAll(strings.NewReader("data: " + long + "\n\n"))
	if !errors.Is(err, io.EOF) || len(got) != 1 || got[0].Data != long {
		t.Fatalf("got %d events, err %v", len(got), err)
	}
}
