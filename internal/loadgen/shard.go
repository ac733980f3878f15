//go:build linux

package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// shard is one process's subscribers, seen from the process that runs the
// publishers: the group itself, or a worker process speaking JSON lines.
type shard interface {
	connect(ctx context.Context) (ConnectResult, error)
	start(w Window) error
	progress() (connected, received int64)
	finish(ctx context.Context, f Finish) (GroupResult, error)
	close()
}

type localShard struct{ g *group }

func (l localShard) connect(ctx context.Context) (ConnectResult, error) { return l.g.connect(ctx) }
func (l localShard) start(w Window) error                               { l.g.start(w); return nil }
func (l localShard) progress() (int64, int64)                           { return l.g.progress() }
func (l localShard) close()                                             { l.g.shutdown() }
func (l localShard) finish(ctx context.Context, f Finish) (GroupResult, error) {
	return l.g.finish(ctx, f), nil
}

// wireMsg is one line between the parent and a worker. Parent to worker:
// Config (with Deadline), then Window, then Finish. Worker to parent:
// Progress now and then, Connected, then Result; Error ends the exchange.
type wireMsg struct {
	Config    *GroupConfig   `json:"config,omitempty"`
	Deadline  int64          `json:"deadline,omitempty"` // unix ns; the worker gives up then
	Window    *Window        `json:"window,omitempty"`
	Finish    *Finish        `json:"finish,omitempty"`
	Progress  *[2]int64      `json:"progress,omitempty"` // connected, received
	Connected *ConnectResult `json:"connected,omitempty"`
	Result    *GroupResult   `json:"result,omitempty"`
	Error     string         `json:"error,omitempty"`
}

// remoteShard drives a worker over its stdin and stdout.
type remoteShard struct {
	cmd       *exec.Cmd // nil when the worker is not a process (tests)
	in        io.WriteCloser
	enc       *json.Encoder
	msgs      chan wireMsg
	connected atomic.Int64
	received  atomic.Int64
	closeOnce sync.Once
}

// startWorker runs command as a worker process for cfg.
func startWorker(command []string, cfg GroupConfig, deadline time.Time, stderr io.Writer) (*remoteShard, error) {
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stderr = stderr
	// The worker dies with us even if we are killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("loadgen: start worker: %w", err)
	}
	r := newRemote(in, out)
	r.cmd = cmd
	if err := r.enc.Encode(wireMsg{Config: &cfg, Deadline: deadline.UnixNano()}); err != nil {
		r.close()
		return nil, fmt.Errorf("loadgen: worker: %w", err)
	}
	return r, nil
}

func newRemote(in io.WriteCloser, out io.Reader) *remoteShard {
	r := &remoteShard{in: in, enc: json.NewEncoder(in), msgs: make(chan wireMsg, 4)}
	go func() {
		defer close(r.msgs)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			var m wireMsg
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				r.msgs <- wireMsg{Error: fmt.Sprintf("worker sent %.100q: %v", sc.Bytes(), err)}
				return
			}
			if m.Progress != nil {
				r.connected.Store(m.Progress[0])
				r.received.Store(m.Progress[1])
				continue
			}
			r.msgs <- m
		}
	}()
	return r
}

// next waits for the worker's next answer.
func (r *remoteShard) next(ctx context.Context) (wireMsg, error) {
	select {
	case m, ok := <-r.msgs:
		switch {
		case !ok:
			return m, errors.New("loadgen: worker exited early (see its messages above)")
		case m.Error != "":
			return m, errors.New("loadgen: worker: " + m.Error)
		}
		return m, nil
	case <-ctx.Done():
		return wireMsg{}, fmt.Errorf("loadgen: waiting for a worker: %w", ctx.Err())
	}
}

func (r *remoteShard) connect(ctx context.Context) (ConnectResult, error) {
	m, err := r.next(ctx)
	if err == nil && m.Connected == nil {
		err = errors.New("loadgen: worker answered out of turn")
	}
	if err != nil {
		return ConnectResult{}, err
	}
	return *m.Connected, nil
}

func (r *remoteShard) start(w Window) error     { return r.enc.Encode(wireMsg{Window: &w}) }
func (r *remoteShard) progress() (int64, int64) { return r.connected.Load(), r.received.Load() }

func (r *remoteShard) finish(ctx context.Context, f Finish) (GroupResult, error) {
	if err := r.enc.Encode(wireMsg{Finish: &f}); err != nil {
		return GroupResult{}, fmt.Errorf("loadgen: worker: %w", err)
	}
	m, err := r.next(ctx)
	if err == nil && m.Result == nil {
		err = errors.New("loadgen: worker answered out of turn")
	}
	if err != nil {
		return GroupResult{}, err
	}
	return *m.Result, nil
}

// close ends the worker: closing its stdin makes it finish; it is killed
// if it has not exited a few seconds later.
func (r *remoteShard) close() {
	r.closeOnce.Do(func() {
		r.in.Close()
		if r.cmd == nil {
			return
		}
		done := make(chan struct{})
		go func() { _ = r.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = r.cmd.Process.Kill()
			<-done
		}
	})
}
