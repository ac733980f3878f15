package hub

import "strconv"

// Event is one SSE event, encoded once and shared read-only by every
// subscriber it is delivered to.
type Event struct {
	// Seq is the engine sequence the event's id carries.
	Seq uint64
	// HasID is set for events sent with an "id:" line (init and replayable
	// messages); system notices and request replies carry none, so
	// EventSource keeps the last id for its reconnect.
	HasID bool
	// frame is "data: <json>\n\n".
	frame []byte
}

// NewEvent frames one-line JSON as an SSE data event with an id for seq.
func NewEvent(seq uint64, json []byte) *Event {
	e := NewNotice(json)
	e.Seq, e.HasID = seq, true
	return e
}

// NewNotice frames one-line JSON as an SSE data event without an id.
func NewNotice(json []byte) *Event {
	f := make([]byte, 0, len(json)+8)
	f = append(f, "data: "...)
	f = append(f, json...)
	f = append(f, '\n', '\n')
	return &Event{frame: f}
}

// NewIDMarker is an event with an id and no data: EventSource takes the id
// as its last event id and dispatches nothing. It stands in for a broadcast
// the connection already got in a history reply, so that a reconnect
// resumes after it instead of replaying it.
func NewIDMarker(seq uint64) *Event {
	return &Event{Seq: seq, HasID: true, frame: []byte("\n")}
}

// JSON returns the event's JSON payload (not for an id marker).
func (e *Event) JSON() []byte { return e.frame[6 : len(e.frame)-2] }

// AppendTo appends the event as sent to one subscriber: an "id:" line made of
// the subscriber's id prefix and the sequence (when HasID), then the data.
func (e *Event) AppendTo(dst, idPrefix []byte) []byte {
	if e.HasID {
		dst = append(dst, "id: "...)
		dst = append(dst, idPrefix...)
		dst = strconv.AppendUint(dst, e.Seq, 10)
		dst = append(dst, '\n')
	}
	return append(dst, e.frame...)
}

// Heartbeat is an SSE comment: ignored by EventSource, but it keeps proxies
// from closing an idle connection and lets the server notice dead peers.
var Heartbeat = []byte(":\n\n")
