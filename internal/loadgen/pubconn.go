//go:build linux

package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// pubConn is one keep-alive HTTP/1.1 connection for publishing, owned by one
// goroutine. It replaces net/http's client on this path: that client cost
// the tool about as much CPU per publish as the server spent (allocations,
// two goroutines per connection), which would make the tool the limit of
// the publish-path scenarios.
type pubConn struct {
	addr, host string
	conn       net.Conn
	br         *bufio.Reader
	req        []byte
	reply      []byte
}

var errNoLength = errors.New("publish reply without Content-Length")

// post sends one request and reads the whole reply. On any error the
// connection is dropped; the next call dials again.
func (p *pubConn) post(path string, body []byte) (status int, reply []byte, err error) {
	if p.conn == nil {
		c, err := net.DialTimeout("tcp", p.addr, 10*time.Second)
		if err != nil {
			return 0, nil, err
		}
		p.conn, p.br = c, bufio.NewReaderSize(c, 4<<10)
	}
	status, reply, err = p.roundTrip(path, body)
	if err != nil {
		p.close()
	}
	return status, reply, err
}

func (p *pubConn) roundTrip(path string, body []byte) (int, []byte, error) {
	p.req = append(p.req[:0], "POST "...)
	p.req = append(p.req, path...)
	p.req = append(p.req, " HTTP/1.1\r\nHost: "...)
	p.req = append(p.req, p.host...)
	p.req = append(p.req, "\r\nContent-Type: application/json\r\nContent-Length: "...)
	p.req = strconv.AppendInt(p.req, int64(len(body)), 10)
	p.req = append(p.req, "\r\n\r\n"...)
	p.req = append(p.req, body...)
	_ = p.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := p.conn.Write(p.req); err != nil {
		return 0, nil, err
	}
	line, err := p.br.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	status, n := parseUint(line[9:])
	if n != 3 {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	length, closing := -1, false
	for {
		h, err := p.br.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		if len(h) <= 2 {
			break
		}
		k, v, _ := bytes.Cut(h, []byte(":"))
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			l, n := parseUint(v)
			if n == 0 || n != len(v) || l > 1<<20 {
				return 0, nil, fmt.Errorf("bad Content-Length %q", v)
			}
			length = int(l)
		case bytes.EqualFold(k, []byte("Connection")):
			closing = bytes.EqualFold(v, []byte("close"))
		}
	}
	if length < 0 {
		return 0, nil, errNoLength
	}
	p.reply = append(p.reply[:0], make([]byte, length)...)
	if _, err := io.ReadFull(p.br, p.reply); err != nil {
		return 0, nil, err
	}
	if closing {
		p.close()
	}
	return int(status), p.reply, nil
}

func (p *pubConn) close() {
	if p.conn != nil {
		p.conn.Close()
		p.conn = nil
	}
}
