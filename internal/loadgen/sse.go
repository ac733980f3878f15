//go:build linux

package loadgen

import (
	"bytes"
	"errors"
	"io"
	"strconv"
)

// errChunk reports a malformed chunked body.
var errChunk = errors.New("loadgen: malformed chunked encoding")

// Chunked decoder states.
const (
	chSize   = iota // hex digits of a chunk size
	chExt           // chunk extension, up to CR
	chSizeLF        // LF after the size line
	chData          // size bytes of data left
	chDataCR        // CR after the data
	chDataLF        // LF after the data
	chDone          // the last (zero) chunk was seen
)

// dechunker decodes HTTP/1.1 chunked transfer coding in place, across reads.
// Go's server frames every SSE flush as a chunk, and a chunk may be split
// anywhere by TCP, so state carries over from one call to the next.
type dechunker struct {
	state  uint8
	digits uint8
	size   uint64
}

// decode moves the chunk data of b to the front of b and returns it. At the
// end of the body it returns io.EOF.
func (d *dechunker) decode(b []byte) ([]byte, error) {
	w := 0
	for r := 0; r < len(b); {
		switch d.state {
		case chData:
			n := int(min(uint64(len(b)-r), d.size))
			copy(b[w:], b[r:r+n])
			w, r, d.size = w+n, r+n, d.size-uint64(n)
			if d.size == 0 {
				d.state = chDataCR
			}
			continue
		case chDone:
			return b[:w], io.EOF
		}
		c := b[r]
		r++
		switch d.state {
		case chSize:
			switch v := hexVal(c); {
			case v >= 0 && d.digits < 12:
				d.size, d.digits = d.size<<4|uint64(v), d.digits+1
			case c == '\r' && d.digits > 0:
				d.state = chSizeLF
			case (c == ';' || c == ' ' || c == '\t') && d.digits > 0:
				d.state = chExt
			default:
				return b[:w], errChunk
			}
		case chExt:
			if c == '\r' {
				d.state = chSizeLF
			}
		case chSizeLF:
			if c != '\n' {
				return b[:w], errChunk
			}
			d.digits = 0
			if d.size == 0 {
				d.state = chDone
				return b[:w], io.EOF
			}
			d.state = chData
		case chDataCR:
			if c != '\r' {
				return b[:w], errChunk
			}
			d.state = chDataLF
		case chDataLF:
			if c != '\n' {
				return b[:w], errChunk
			}
			d.state, d.size = chSize, 0
		}
	}
	return b[:w], nil
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

var (
	dataPrefix   = []byte("data: ")
	msgPrefix    = []byte(`"message":{"s":`)
	sentPrefix   = []byte(`,"t":`)
	typeKey      = []byte(`"type":"`)
	typeBcast    = []byte(`broadcast"`)
	typeInit     = []byte(`init"`)
	tokenKey     = []byte(`"token":"`)
	headerEnd    = []byte("\r\n\r\n")
	chunkedToken = []byte("transfer-encoding: chunked")
)

// eventType returns the value of the envelope's "type" field. The envelope
// ends with type and widget_key, so the search starts from the end and does
// not walk the payload.
func eventType(data []byte) []byte {
	i := bytes.LastIndex(data, typeKey)
	if i < 0 {
		return nil
	}
	return data[i+len(typeKey):]
}

// parseBroadcast pulls the sequence number and send time out of a broadcast
// envelope whose message is the tool's {"s":<seq>,"t":<unix ns>,"p":…}.
func parseBroadcast(data []byte) (seq uint64, sent int64, ok bool) {
	i := bytes.Index(data, msgPrefix)
	if i < 0 || !bytes.HasPrefix(eventType(data), typeBcast) {
		return 0, 0, false
	}
	rest := data[i+len(msgPrefix):]
	seq, n := parseUint(rest)
	if n == 0 || !bytes.HasPrefix(rest[n:], sentPrefix) {
		return 0, 0, false
	}
	t, m := parseUint(rest[n+len(sentPrefix):])
	if m == 0 {
		return 0, 0, false
	}
	return seq, int64(t), true
}

// parseUint reads leading decimal digits; n is how many.
func parseUint(b []byte) (v uint64, n int) {
	for n < len(b) && n < 19 && '0' <= b[n] && b[n] <= '9' {
		v = v*10 + uint64(b[n]-'0')
		n++
	}
	return v, n
}

// initToken returns the token of an init envelope, if data is one.
func initToken(data []byte) (string, bool) {
	if !bytes.HasPrefix(eventType(data), typeInit) {
		return "", false
	}
	i := bytes.Index(data, tokenKey)
	if i < 0 {
		return "", true
	}
	rest := data[i+len(tokenKey):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return "", true
	}
	return string(rest[:j]), true
}

// appendMessage appends the tool's message, padded with 'x' so that it is
// size bytes long when size allows.
func appendMessage(dst []byte, seq uint64, sent int64, size int) []byte {
	start := len(dst)
	dst = append(dst, `{"s":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"t":`...)
	dst = strconv.AppendInt(dst, sent, 10)
	dst = append(dst, `,"p":"`...)
	for pad := size - (len(dst) - start) - 2; pad > 0; pad-- {
		dst = append(dst, 'x')
	}
	return append(dst, `"}`...)
}

// appendBroadcast appends a publish body carrying the tool's message.
func appendBroadcast(dst []byte, widgetKey string, seq uint64, sent int64, size int) []byte {
	dst = append(dst, `{"type":"broadcast","widget_key":"`...)
	dst = append(dst, widgetKey...)
	dst = append(dst, `","message":`...)
	dst = appendMessage(dst, seq, sent, size)
	return append(dst, '}')
}
