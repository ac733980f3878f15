package e2e

import (
	"io"
	"net"
	"sync"
	"testing"
)

// cutter is a loopback TCP proxy in front of a node whose connections the
// test can cut at any moment, as a crashed proxy or a network fault would.
type cutter struct {
	ln      net.Listener
	backend string
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	URL     string
}

func newCutter(t *testing.T, backendURL string) *cutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln, backend: backendURL[len("http://"):], conns: map[net.Conn]struct{}{}, URL: "http://" + ln.Addr().String()}
	go c.accept()
	t.Cleanup(func() { ln.Close(); c.cut() })
	return c
}

func (c *cutter) accept() {
	for {
		in, err := c.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", c.backend)
		if err != nil {
			in.Close()
			continue
		}
		c.mu.Lock()
		c.conns[in], c.conns[out] = struct{}{}, struct{}{}
		c.mu.Unlock()
		go c.pipe(in, out)
		go c.pipe(out, in)
	}
}

func (c *cutter) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	c.mu.Lock()
	delete(c.conns, dst)
	delete(c.conns, src)
	c.mu.Unlock()
}

// cut closes every connection through the proxy; it returns how many.
func (c *cutter) cut() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.conns)
	for conn := range c.conns {
		conn.Close()
	}
	return n / 2
}
