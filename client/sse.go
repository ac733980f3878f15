package client

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
	"time"
)

// MaxEventLine is the longest single line, in bytes, that an
// [EventReader] accepts; a longer line makes Next fail with
// bufio.ErrTooLong.
const MaxEventLine = 16 << 20

// Event is one dispatched Server-Sent Event.
type Event struct {
	// ID is the stream's last event ID when the event was dispatched: the
	// value of this event's "id:" field, or, if it had none, of the most
	// recent earlier one (as in the browser EventSource API).
	ID string
	// Type is the value of the "event:" field, or "" if there was none
	// (which SSE treats as "message").
	Type string
	// Data is the values of the event's "data:" lines joined with "\n".
	Data string
}

// EventReader parses a text/event-stream as specified by the WHATWG HTML
// standard ("Server-sent events", "Event stream interpretation"):
//
//   - lines end in CRLF, LF or a lone CR; a leading UTF-8 BOM is dropped;
//   - a line starting with ":" is a comment and is ignored;
//   - "field:value" sets a field; one space after the colon is stripped;
//     a line without a colon is a field with an empty value;
//   - "data" lines are joined with "\n"; "event" sets the type; "id" sets
//     the last event ID (unless it contains NUL) and persists across
//     events; "retry" with only ASCII digits sets the reconnection delay
//     in milliseconds; other fields are ignored;
//   - a blank line dispatches the event if at least one data line was
//     seen; otherwise it only resets the pending type;
//   - an event left incomplete at end of input is discarded.
//
// An EventReader is not safe for concurrent use.
type EventReader struct {
	sc      *bufio.Scanner
	started bool
	lastID  string
	retry   time.Duration
	// pending event
	data    strings.Builder
	hasData bool
	typ     string
}

// NewEventReader returns an EventReader reading from r.
func NewEventReader(r io.Reader) *EventReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxEventLine)
	sc.Split(newLineSplitter())
	return &EventReader{sc: sc}
}

// Next returns the next dispatched event. At the end of input it returns
// io.EOF (dropping any incomplete event); other read errors are returned
// as they are. After an error, Next keeps returning errors.
func (r *EventReader) Next() (Event, error) {
	for r.sc.Scan() {
		line := r.sc.Text()
		if !r.started {
			r.started = true
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		if line == "" {
			if ev, ok := r.dispatch(); ok {
				return ev, nil
			}
			continue
		}
		r.processLine(line)
	}
	if err := r.sc.Err(); err != nil {
		return Event{}, err
	}
	return Event{}, io.EOF
}

// LastEventID returns the current last event ID: the value of the most
// recent "id:" field read so far, including fields of events that were
// never dispatched.
func (r *EventReader) LastEventID() string { return r.lastID }

// Retry returns the reconnection delay from the most recent valid
// "retry:" field, or 0 if there was none.
func (r *EventReader) Retry() time.Duration { return r.retry }

// processLine interprets one non-empty line.
func (r *EventReader) processLine(line string) {
	if line[0] == ':' {
		return // comment
	}
	field, value, found := strings.Cut(line, ":")
	if found {
		value = strings.TrimPrefix(value, " ")
	}
	switch field {
	case "data":
		if r.hasData {
			r.data.WriteByte('\n')
		}
		r.data.WriteString(value)
		r.hasData = true
	case "event":
		r.typ = value
	case "id":
		if !strings.ContainsRune(value, 0) {
			r.lastID = value
		}
	case "retry":
		if isDigits(value) {
			if ms, err := strconv.ParseInt(value, 10, 64); err == nil {
				r.retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
}

// dispatch ends the pending event; ok is false if it had no data.
func (r *EventReader) dispatch() (Event, bool) {
	defer func() {
		r.data.Reset()
		r.hasData = false
		r.typ = ""
	}()
	if !r.hasData {
		return Event{}, false
	}
	return Event{ID: r.lastID, Type: r.typ, Data: r.data.String()}, true
}

// isDigits reports whether s is non-empty and all ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// newLineSplitter returns a bufio.SplitFunc yielding lines terminated by
// CRLF, LF or CR. A CR is taken as a line end at once; an LF directly
// following it is then skipped, so a CRLF split across reads still counts
// as one line end. A final unterminated line is dropped.
func newLineSplitter() bufio.SplitFunc {
	skipLF := false
	return func(data []byte, atEOF bool) (int, []byte, error) {
		if skipLF && len(data) > 0 {
			skipLF = false
			if data[0] == '\n' {
				return 1, nil, nil
			}
		}
		if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
			if data[i] == '\n' {
				return i + 1, data[:i], nil
			}
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
			} else {
				skipLF = true
			}
			return i + 1, data[:i], nil
		}
		if atEOF {
			// Incomplete last line: consume and drop it.
			return len(data), nil, nil
		}
		return 0, nil, nil
	}
}
