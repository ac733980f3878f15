//go:build linux

package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// SpawnConfig says how to start a server for a run.
type SpawnConfig struct {
	Bin    string   // tidings binary; empty: go build ./cmd/tidings into a temp dir
	Flags  []string // extra serve flags, e.g. --sync always
	PinCPU int      // pin the server to this CPU with taskset; -1: no pinning
	Log    io.Writer
}

// Spawned is a server started by Spawn.
type Spawned struct {
	URL    string
	PID    int
	APIKey string
	cmd    *exec.Cmd
	dir    string
	exited chan struct{}
}

// Spawn builds (if needed) and starts `tidings serve` on a free loopback
// port with a fresh data directory and a random API key, and waits until it
// answers /healthz.
func Spawn(ctx context.Context, sc SpawnConfig) (*Spawned, error) {
	dir, err := os.MkdirTemp("", "tidings-bench-")
	if err != nil {
		return nil, err
	}
	s := &Spawned{dir: dir, exited: make(chan struct{})}
	fail := func(err error) (*Spawned, error) { os.RemoveAll(dir); return nil, err }
	bin := sc.Bin
	if bin == "" {
		bin = filepath.Join(dir, "tidings")
		fmt.Fprintln(sc.Log, "building the server: go build -o", bin, "./cmd/tidings")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/tidings/tidings/cmd/tidings")
		build.Stdout, build.Stderr = sc.Log, sc.Log
		if err := build.Run(); err != nil {
			return fail(fmt.Errorf("loadgen: build the server (run from inside the repository): %w", err))
		}
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	var key [16]byte
	_, _ = rand.Read(key[:])
	s.APIKey = "tdk_bench_" + hex.EncodeToString(key[:])
	s.URL = "http://127.0.0.1:" + strconv.Itoa(port)

	args := append([]string{bin, "serve", "--listen", "127.0.0.1:" + strconv.Itoa(port), "--data", filepath.Join(dir, "data")}, sc.Flags...)
	if sc.PinCPU >= 0 {
		ts, err := exec.LookPath("taskset")
		if err != nil {
			return fail(fmt.Errorf("loadgen: pinning needs taskset: %w", err))
		}
		// taskset execs the server: the pid stays the server's.
		args = append([]string{ts, "-c", strconv.Itoa(sc.PinCPU)}, args...)
	}
	raiseFileLimit() // the server inherits it
	s.cmd = exec.Command(args[0], args[1:]...)
	s.cmd.Env = append(os.Environ(), "TIDINGS_API_KEY="+s.APIKey)
	s.cmd.Stdout, s.cmd.Stderr = sc.Log, sc.Log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return fail(fmt.Errorf("loadgen: start the server: %w", err))
	}
	s.PID = s.cmd.Process.Pid
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	if err := s.waitHealthy(ctx, 60*time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Spawned) waitHealthy(ctx context.Context, d time.Duration) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return errors.New("loadgen: the server exited at start (see its log above)")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := hc.Get(s.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("loadgen: the server did not answer %s/healthz within %v", s.URL, d)
}

// Stop asks the server to shut down, kills it if it has not after 20 s,
// and removes its data.
func (s *Spawned) Stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	os.RemoveAll(s.dir)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// pinnedEnv marks a process already re-executed under taskset.
const pinnedEnv = "TIDINGS_BENCH_PINNED"

// PinSelf re-executes the current process under `taskset -c cpu`, unless it
// already runs that way; on success it does not return. Go sets GOMAXPROCS
// from the affinity mask at start, and every thread the runtime creates
// inherits it, which a late sched_setaffinity on one thread would not give.
func PinSelf(cpu int) error {
	if os.Getenv(pinnedEnv) != "" {
		return nil
	}
	if runtime.NumCPU() < 2 {
		return errors.New("loadgen: --pin needs two CPUs (server on CPU 0, the tool on CPU 1)")
	}
	ts, err := exec.LookPath("taskset")
	if err != nil {
		return fmt.Errorf("loadgen: --pin needs taskset: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	args := append([]string{ts, "-c", strconv.Itoa(cpu), exe}, os.Args[1:]...)
	return syscall.Exec(ts, args, append(os.Environ(), pinnedEnv+"=1"))
}
