//go:build linux

package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func chunk(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(p), p)
	}
	return b.String()
}

func TestDechunkerSplitAnywhere(t *testing.T) {
	body := "data: one\n\n" + strings.Repeat("y", 300) + "\ndata: two\n\n"
	tests := []struct {
		name string
		wire string
		want string
		eof  bool
	}{
		{"one chunk", chunk(body), body, false},
		{"many chunks", chunk(body[:5], body[5:200], body[200:]), body, false},
		{"extension", "5;name=v\r\nhello\r\n", "hello", false},
		{"upper-case hex", "A\r\n0123456789\r\n", "0123456789", false},
		{"last chunk", chunk("abc") + "0\r\n\r\n", "abc", true},
	}
	for _, tt := range tests {
		// Every split of the wire bytes into two reads must decode the same.
		for cut := 0; cut <= len(tt.wire); cut++ {
			t.Run(fmt.Sprintf("%s/cut%d", tt.name, cut), func(t *testing.T) {
				var d dechunker
				var got []byte
				var gotEOF bool
				for _, part := range []string{tt.wire[:cut], tt.wire[cut:]} {
					out, err := d.decode([]byte(part))
					got = append(got, out...)
					gotEOF = gotEOF || errors.Is(err, io.EOF)
				}
				if string(got) != tt.want {
					t.Fatalf("decoded %q; want %q", got, tt.want)
				}
				if gotEOF != tt.eof {
					t.Fatalf("EOF = %v; want %v", gotEOF, tt.eof)
				}
			})
		}
	}
}

func TestDechunkerMalformed(t *testing.T) {
	for _, wire := range []string{"zz\r\n", "\r\n", "3\r\nabcXY", "3\n"} {
		var d dechunker
		if _, err := d.decode([]byte(wire)); !errors.Is(err, errChunk) {
			t.Errorf("decode(%q) error = %v; want errChunk", wire, err)
		}
	}
}

func TestParseBroadcast(t *testing.T) {
	msg := string(appendMessage(nil, 42, 1700000000123456789, 100))
	env := func(message, typ string) string {
		return `{"stream_id":"7","author_id":"123","to_user_id":"","message":` + message +
			`,"timestamp":0,"type":"` + typ + `","widget_key":"k-1"}`
	}
	tests := []struct {
		name     string
		data     string
		seq      uint64
		sent     int64
		ok       bool
		hasToken string
	}{
		{"broadcast", env(msg, "broadcast"), 42, 1700000000123456789, true, ""},
		{"init", env(`{"token":"tok.en","user_id":"9","viewer_count":1}`, "init"), 0, 0, false, "tok.en"},
		{"system", env(`{"viewer_count":3}`, "system"), 0, 0, false, ""},
		{"private with our payload", env(msg, "private"), 0, 0, false, ""},
		{"foreign broadcast", env(`{"text":"hi"}`, "broadcast"), 0, 0, false, ""},
		{"no send time", env(`{"s":5,"p":"x"}`, "broadcast"), 0, 0, false, ""},
		{"empty seq", env(`{"s":,"t":5}`, "broadcast"), 0, 0, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seq, sent, ok := parseBroadcast([]byte(tt.data))
			if seq != tt.seq || sent != tt.sent || ok != tt.ok {
				t.Fatalf("parseBroadcast = %d, %d, %v; want %d, %d, %v", seq, sent, ok, tt.seq, tt.sent, tt.ok)
			}
			tok, _ := initToken([]byte(tt.data))
			if tok != tt.hasToken {
				t.Fatalf("initToken = %q; want %q", tok, tt.hasToken)
			}
		})
	}
}

func TestAppendMessageSize(t *testing.T) {
	for _, size := range []int{10, 40, 100, 1000} {
		m := appendMessage(nil, 123456, 1700000000123456789, size)
		if want := max(size, len(`{"s":123456,"t":1700000000123456789,"p":""}`)); len(m) != want {
			t.Errorf("size %d: message is %d bytes (%s); want %d", size, len(m), m, want)
		}
	}
	body := appendBroadcast(nil, "key", 1, 2, 50)
	if !bytes.HasPrefix(body, []byte(`{"type":"broadcast","widget_key":"key","message":{"s":1,"t":2,"p":"`)) {
		t.Errorf("body = %s", body)
	}
}

// A subscriber fed the server's bytes in awkward pieces must count each
// broadcast once, whatever the split.
func TestSubscriberConsume(t *testing.T) {
	var sse strings.Builder
	sse.WriteString("retry: 2000\n\n")
	init := `{"stream_id":"1","author_id":"0","to_user_id":"9","message":{"token":"T","user_id":"9","viewer_count":1},"timestamp":0,"type":"init","widget_key":""}`
	sse.WriteString("id: x-0\ndata: " + init + "\n\n:\n\n")
	for _, seq := range []uint64{1, 2, 2, 4, 3} {
		m := appendMessage(nil, seq, 1000, 60)
		fmt.Fprintf(&sse, "id: x-%d\ndata: {\"stream_id\":\"1\",\"author_id\":\"9\",\"to_user_id\":\"\",\"message\":%s,\"timestamp\":0,\"type\":\"broadcast\",\"widget_key\":\"k\"}\n\n", seq, m)
	}
	wire := chunk(sse.String()[:100], sse.String()[100:])
	for _, step := range []int{1, 7, 64, len(wire)} {
		t.Run(fmt.Sprint("step", step), func(t *testing.T) {
			s := &subscriber{sink: newSink(), buf: make([]byte, 256), chunked: true}
			for off := 0; off < len(wire); {
				k := copy(s.buf[s.n:], wire[off:min(off+step, len(wire))])
				off += k
				if err := s.consume(k, 5000); err != nil {
					t.Fatal(err)
				}
			}
			if !s.joined || s.token != "T" {
				t.Errorf("joined %v token %q; want true, T", s.joined, s.token)
			}
			if s.tr.unique != 4 || s.tr.dups != 1 || s.tr.ooo != 1 || s.sink.received.Load() != 4 {
				t.Errorf("unique %d dups %d ooo %d received %d; want 4 1 1 4", s.tr.unique, s.tr.dups, s.tr.ooo, s.sink.received.Load())
			}
		})
	}
}
