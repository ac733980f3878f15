//go:build linux

package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

// maxLine bounds how far a subscriber's buffer grows for one SSE line.
const maxLine = 4 << 20

// sink is what the subscribers of one group share: totals updated once per
// read, latency buckets, and the measured window.
type sink struct {
	hist        Histogram
	received    atomic.Int64 // unique deliveries
	inWindow    atomic.Int64 // unique deliveries received inside the window
	winStart    atomic.Int64 // unix ns; deliveries sent from here on are timed
	winEnd      atomic.Int64
	disconnects atomic.Int64
	closing     atomic.Bool // set before the group closes its connections
}

func newSink() *sink {
	s := &sink{}
	s.winStart.Store(1<<63 - 1)
	s.winEnd.Store(1<<63 - 1)
	return s
}

// dialSpec says how to open one subscription.
type dialSpec struct {
	addr    *net.TCPAddr // server
	host    string       // Host header
	local   net.IP       // source address, or nil
	path    string
	bufSize int
	timeout time.Duration
}

// subscriber is one SSE connection on a raw socket: blocking while it
// connects, then non-blocking and read by a poller.
type subscriber struct {
	fd      int
	sink    *sink
	stream  int // index of its stream in the run
	buf     []byte
	n       int // bytes of an incomplete line kept at the front of buf
	chunked bool
	dc      dechunker
	tr      tracker
	joined  bool // init seen
	token   string
	err     error // why the connection ended early, if it did

	// Per-read state: the read's time, the window, and what to add to sink.
	now, ws, we   int64
	fresh, inWind int64
}

// dialSubscriber connects, sends the request and reads up to the init
// event, so that the subscriber is part of the stream when it returns.
func dialSubscriber(d dialSpec, sk *sink, stream int) (*subscriber, error) {
	fd, err := dialRaw(d.addr, d.local)
	if err != nil {
		return nil, err
	}
	s := &subscriber{fd: fd, sink: sk, stream: stream, buf: make([]byte, d.bufSize)}
	if err := s.handshake(d); err != nil {
		s.closeFD()
		return nil, err
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		s.closeFD()
		return nil, err
	}
	return s, nil
}

// dialRaw opens a blocking TCP connection that Go's netpoller knows nothing
// about. SYN retries are capped so that connect is bounded without a send
// timeout (which would make it return EINTR mid-connect).
func dialRaw(addr *net.TCPAddr, local net.IP) (int, error) {
	family, sa := syscall.AF_INET, syscall.Sockaddr(nil)
	if ip4 := addr.IP.To4(); ip4 != nil {
		sa = &syscall.SockaddrInet4{Port: addr.Port, Addr: [4]byte(ip4)}
	} else {
		family = syscall.AF_INET6
		sa = &syscall.SockaddrInet6{Port: addr.Port, Addr: [16]byte(addr.IP.To16())}
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	fail := func(call string, err error) (int, error) { syscall.Close(fd); return -1, os.NewSyscallError(call, err) }
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_SYNCNT, 3); err != nil {
		return fail("setsockopt", err)
	}
	if ip4 := local.To4(); ip4 != nil && family == syscall.AF_INET {
		if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte(ip4)}); err != nil {
			return fail("bind "+local.String(), err)
		}
	}
	if err := syscall.Connect(fd, sa); err != nil {
		return fail("connect "+addr.String(), err)
	}
	return fd, nil
}

func (s *subscriber) handshake(d dialSpec) error {
	tv := syscall.NsecToTimeval(int64(d.timeout))
	_ = syscall.SetsockoptTimeval(s.fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
	_ = syscall.SetsockoptTimeval(s.fd, syscall.SOL_SOCKET, syscall.SO_SNDTIMEO, &tv)
	req := []byte("GET " + d.path + " HTTP/1.1\r\nHost: " + d.host +
		"\r\nAccept: text/event-stream\r\nUser-Agent: tidings-bench\r\n\r\n")
	for len(req) > 0 {
		k, err := syscall.Write(s.fd, req)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("write", err)
		}
		req = req[k:]
	}
	if err := s.readHead(); err != nil {
		return err
	}
	for !s.joined {
		k, err := s.readBlocking(s.buf[s.n:])
		if k > 0 {
			if err := s.consume(k, time.Now().UnixNano()); err != nil {
				return err
			}
		}
		if err != nil {
			return fmt.Errorf("before init: %w", err)
		}
	}
	return nil
}

// readBlocking reads during the handshake; a timeout shows up as EAGAIN.
func (s *subscriber) readBlocking(b []byte) (int, error) {
	for {
		k, err := syscall.Read(s.fd, b)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, errors.New("timed out")
		case err != nil:
			return 0, os.NewSyscallError("read", err)
		case k == 0:
			return 0, io.ErrUnexpectedEOF
		}
		return k, nil
	}
}

// readHead reads the response header and keeps what follows it as body.
func (s *subscriber) readHead() error {
	m := 0
	for {
		if m == len(s.buf) {
			return errors.New("response header too large")
		}
		k, err := s.readBlocking(s.buf[m:])
		m += k
		if i := bytes.Index(s.buf[:m], headerEnd); i >= 0 {
			head := s.buf[:i]
			if !bytes.HasPrefix(head, []byte("HTTP/1.1 200")) && !bytes.HasPrefix(head, []byte("HTTP/1.0 200")) {
				line, _, _ := bytes.Cut(head, []byte("\r\n"))
				return fmt.Errorf("subscribe answered %q: %.200s", line, s.buf[i+4:m])
			}
			s.chunked = bytes.Contains(bytes.ToLower(head), chunkedToken)
			k := copy(s.buf, s.buf[i+4:m])
			s.n = 0
			if k > 0 {
				return s.consume(k, time.Now().UnixNano())
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readReady reads what a ready socket holds; false means the connection
// ended (the poller then forgets and closes it).
func (s *subscriber) readReady() bool {
	k, err := syscall.Read(s.fd, s.buf[s.n:])
	if k > 0 {
		if e := s.consume(k, time.Now().UnixNano()); e != nil {
			err = e
		}
	}
	switch {
	case err == syscall.EAGAIN || err == syscall.EINTR:
		return true
	case err == nil && k > 0:
		return true
	case err == nil:
		err = io.EOF
	}
	if !s.sink.closing.Load() {
		s.sink.disconnects.Add(1)
		s.err = err
	}
	return false
}

func (s *subscriber) closeFD() {
	if s.fd >= 0 {
		syscall.Close(s.fd)
		s.fd = -1
	}
}

// consume handles k new raw bytes at buf[n:]: decodes them in place, handles
// every complete line and keeps the incomplete one.
func (s *subscriber) consume(k int, now int64) error {
	raw := s.buf[s.n : s.n+k]
	var derr error
	if s.chunked {
		raw, derr = s.dc.decode(raw)
	}
	end := s.n + len(raw)
	s.now, s.ws, s.we = now, s.sink.winStart.Load(), s.sink.winEnd.Load()
	off := 0
	for {
		i := bytes.IndexByte(s.buf[off:end], '\n')
		if i < 0 {
			break
		}
		line := s.buf[off : off+i]
		off += i + 1
		if bytes.HasPrefix(line, dataPrefix) {
			s.event(line[len(dataPrefix):])
		}
	}
	s.n = copy(s.buf, s.buf[off:end])
	if s.fresh > 0 {
		s.sink.received.Add(s.fresh)
		s.sink.inWindow.Add(s.inWind)
		s.fresh, s.inWind = 0, 0
	}
	if s.n == len(s.buf) {
		if len(s.buf) >= maxLine {
			return errors.New("SSE line longer than 4 MiB")
		}
		s.buf = append(s.buf, make([]byte, len(s.buf))...)
	}
	return derr
}

func (s *subscriber) event(data []byte) {
	if seq, sent, ok := parseBroadcast(data); ok {
		if !s.tr.add(seq) {
			return
		}
		s.fresh++
		if s.now >= s.ws && s.now < s.we {
			s.inWind++
		}
		if sent >= s.ws && sent < s.we {
			s.sink.hist.Record(s.now - sent)
		}
		return
	}
	if !s.joined {
		s.token, s.joined = initToken(data)
	}
}
