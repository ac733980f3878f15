package envelope

import (
	"errors"
	"strings"
	"testing"

	"github.com/tidings/tidings/internal/fault"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr string // substring of the message; "" for success
		wantTS  float64
	}{
		{"broadcast", `{"type":"broadcast","widget_key":"k","message":{"a":1},"timestamp":12.5}`, "", 12.5},
		{"string message", `{"type":"broadcast","widget_key":"k","message":"hi"}`, "", 0},
		{"request", `{"type":"request","widget_key":"k"}`, "", 0},
		{"private", `{"type":"private","widget_key":"k","message":1,"to_user_id":"5"}`, "", 0},
		{"not json", `{"type":`, "not a valid JSON envelope", 0},
		{"two objects", `{"type":"request","widget_key":"k"} {}`, "not a valid JSON envelope", 0},
		{"array", `[1]`, "not a valid JSON envelope", 0},
		{"no widget key", `{"type":"broadcast","message":1}`, "widget_key is required", 0},
		{"no type", `{"widget_key":"k","message":1}`, "type is required", 0},
		{"unknown type", `{"type":"shout","widget_key":"k","message":1}`, "unknown type", 0},
		{"server type", `{"type":"init","widget_key":"k"}`, "server only", 0},
		{"broadcast no message", `{"type":"broadcast","widget_key":"k"}`, "message is required", 0},
		{"broadcast null message", `{"type":"broadcast","widget_key":"k","message":null}`, "message is required", 0},
		{"private no target", `{"type":"private","widget_key":"k","message":1}`, "to_user_id is required", 0},
		{"bad timestamp", `{"type":"request","widget_key":"k","timestamp":"soon"}`, "timestamp must be a number", 0},
		{"wrong field type", `{"type":5,"widget_key":"k"}`, "wrong type", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ts, err := Decode([]byte(tc.body))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if ts != tc.wantTS {
					t.Fatalf("timestamp %v; want %v", ts, tc.wantTS)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v; want one containing %q", err, tc.wantErr)
			}
			if !errors.Is(err, fault.ErrInvalid) {
				t.Fatalf("err kind: %v is not ErrInvalid", err)
			}
		})
	}
}

func TestEncodeIsOneLineInFieldOrder(t *testing.T) {
	e := Envelope{StreamID: "1", AuthorID: "2", Message: []byte("{\n \"a\": \"<b>\"\n}"), Type: TypeBroadcast, WidgetKey: "k"}
	got := string(e.Encode())
	want := `{"stream_id":"1","author_id":"2","to_user_id":"","message":{"a":"\u003cb\u003e"},"timestamp":0,"type":"broadcast","widget_key":"k"}`
	if got != want {
		t.Fatalf("Encode() = %s\nwant        %s", got, want)
	}
}

func TestReplyEmbedsItems(t *testing.T) {
	got := string(Reply(3, "9", nil).Encode())
	if !strings.Contains(got, `"message":[]`) {
		t.Fatalf("empty reply %s has no empty array", got)
	}
	got = string(Reply(3, "9", [][]byte{[]byte(`{"x":1}`), []byte(`{"x":2}`)}).Encode())
	if !strings.Contains(got, `"message":[{"x":1},{"x":2}]`) || !strings.Contains(got, `"type":"request"`) {
		t.Fatalf("reply %s", got)
	}
}

// BenchmarkEncode measures encoding one broadcast envelope: done once per
// message, whatever the number of subscribers.
func BenchmarkEncode(b *testing.B) {
	e := Envelope{StreamID: "15", AuthorID: "4503599627370496", Message: []byte(`{"username":"ann","type":"chat","message_text":"hello there, everyone"}`),
		Timestamp: 12.5, Type: TypeBroadcast, WidgetKey: "ba3ff363-d3bb-469f-8291-57ff3d5e1fcf"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = e.Encode()
	}
}

// BenchmarkDecode measures validating one publish body.
func BenchmarkDecode(b *testing.B) {
	body := []byte(`{"type":"broadcast","widget_key":"ba3ff363-d3bb-469f-8291-57ff3d5e1fcf","message":{"username":"ann","type":"chat","message_text":"hello"},"timestamp":12.5}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}
