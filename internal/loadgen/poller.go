//go:build linux

package loadgen

import (
	"errors"
	"os"
	"sync/atomic"
	"syscall"
)

// poller reads many subscriber sockets from one goroutine: the sockets are
// in a level-triggered epoll set, and that set's own descriptor is waited on
// through Go's netpoller, so no thread blocks. Each ready socket costs one
// read(2); a goroutine per connection would cost a second read that returns
// EAGAIN, a park and a wake-up, about doubling the tool's CPU per delivery.
type poller struct {
	epfd   *os.File
	rc     syscall.RawConn
	bySock []atomic.Pointer[subscriber] // indexed by socket descriptor
	events []syscall.EpollEvent
	ready  int // events returned by the last wait
	waitFn func(uintptr) bool
	done   chan struct{}
}

func newPoller(maxFD int) (*poller, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	// Non-blocking, so os.NewFile registers it with the runtime's poller.
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	p := &poller{epfd: f, rc: rc, bySock: make([]atomic.Pointer[subscriber], maxFD), events: make([]syscall.EpollEvent, 256), done: make(chan struct{})}
	p.waitFn = p.wait // bound once: no allocation per wake-up
	go p.loop()
	return p, nil
}

// add starts reading s, which must be non-blocking.
func (p *poller) add(s *subscriber) error {
	if s.fd >= len(p.bySock) {
		return errors.New("loadgen: socket descriptor beyond the open-file limit")
	}
	p.bySock[s.fd].Store(s)
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(s.fd)}
	var err error
	cerr := p.rc.Control(func(epfd uintptr) { err = syscall.EpollCtl(int(epfd), syscall.EPOLL_CTL_ADD, s.fd, &ev) })
	if err = errors.Join(err, cerr); err != nil {
		p.bySock[s.fd].Store(nil)
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// wait is called by RawConn.Read: it takes what is ready without blocking,
// and returns false when nothing is, so the runtime parks the goroutine
// until the epoll set becomes readable.
func (p *poller) wait(epfd uintptr) bool {
	for {
		n, err := syscall.EpollWait(int(epfd), p.events, 0)
		if err == syscall.EINTR {
			continue
		}
		p.ready = max(n, 0)
		return n > 0 || err != nil
	}
}

func (p *poller) loop() {
	defer close(p.done)
	for {
		if err := p.rc.Read(p.waitFn); err != nil {
			return // closed
		}
		for _, ev := range p.events[:p.ready] {
			if s := p.bySock[ev.Fd].Load(); s != nil && !s.readReady() {
				// Forget it before its descriptor can be reused.
				p.bySock[ev.Fd].Store(nil)
				s.closeFD()
			}
		}
	}
}

// close stops the loop; the subscribers' sockets stay open.
func (p *poller) close() {
	p.epfd.Close()
	<-p.done
}
