//go:build linux

package loadgen

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"syscall"
)

// selfCPUMicros is this process's user+system CPU time in µs.
func selfCPUMicros() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Sec*1e6 + ru.Utime.Usec + ru.Stime.Sec*1e6 + ru.Stime.Usec
}

// clockTicks is the unit of /proc/<pid>/stat CPU times: sysconf(_SC_CLK_TCK),
// which libc reads from the AT_CLKTCK entry of the auxiliary vector; 100 when
// that cannot be read (it is 100 on every common Linux build).
func clockTicks() int64 {
	const atClkTck = 17
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 100
	}
	for i := 0; i+16 <= len(b); i += 16 {
		if binary.NativeEndian.Uint64(b[i:]) == atClkTck {
			if v := int64(binary.NativeEndian.Uint64(b[i+8:])); v > 0 {
				return v
			}
		}
	}
	return 100
}

// procSample is what /proc tells about a process at one moment.
type procSample struct {
	CPUSeconds float64 // utime+stime
	RSSKiB     int64   // VmRSS
	PeakKiB    int64   // VmHWM, the peak RSS so far
	Threads    int64
}

// readProc samples /proc/<pid>/stat and /proc/<pid>/status.
func readProc(pid int, ticks int64) (procSample, error) {
	var p procSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, err
	}
	// The command name may hold spaces and parentheses: fields start after
	// the last ')'. utime and stime are fields 14 and 15, 12 and 13 after it.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return p, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := bytes.Fields(stat[i+1:])
	if len(f) < 13 {
		return p, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	ut, _ := strconv.ParseInt(string(f[11]), 10, 64)
	st, _ := strconv.ParseInt(string(f[12]), 10, 64)
	p.CPUSeconds = float64(ut+st) / float64(ticks)

	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, err
	}
	for line := range bytes.Lines(status) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 10, 64)
		switch string(k) {
		case "VmRSS":
			p.RSSKiB = n
		case "VmHWM":
			p.PeakKiB = n
		case "Threads":
			p.Threads = n
		}
	}
	return p, nil
}

// serverGoroutines reads the "goroutines" variable of the server's
// /debug/vars (expvar); ok is false when the server does not expose it.
func serverGoroutines(ctx context.Context, hc *http.Client, base string) (n int64, ok bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/debug/vars", nil)
	if err != nil {
		return 0, false
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, false
	}
	var v struct {
		Goroutines *int64 `json:"goroutines"`
	}
	if json.NewDecoder(resp.Body).Decode(&v) != nil || v.Goroutines == nil {
		return 0, false
	}
	return *v.Goroutines, true
}

// coreTicks is one CPU's time from /proc/stat, in clock ticks.
type coreTicks struct {
	busy, softirq, total int64
}

// readCore reads the "cpuN" line of /proc/stat. Busy includes irq and
// softirq time, which /proc/<pid>/stat does not charge to any process: on
// loopback, much of the receiving side's TCP work runs as softirq on the
// sender's core.
func readCore(cpu int) (coreTicks, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return coreTicks{}, err
	}
	prefix := []byte("cpu" + strconv.Itoa(cpu) + " ")
	for line := range bytes.Lines(b) {
		if !bytes.HasPrefix(line, prefix) {
			continue
		}
		var c coreTicks
		for i, f := range bytes.Fields(line[len(prefix):]) {
			v, _ := strconv.ParseInt(string(f), 10, 64)
			if i >= 8 { // guest time is already counted in user time
				break
			}
			c.total += v
			switch i {
			case 3, 4: // idle, iowait
			case 6:
				c.softirq += v
				c.busy += v
			default:
				c.busy += v
			}
		}
		return c, nil
	}
	return coreTicks{}, fmt.Errorf("/proc/stat: no cpu%d", cpu)
}
