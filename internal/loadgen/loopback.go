//go:build linux

package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
)

// ErrNotLoopback is returned for a target outside 127.0.0.0/8 and ::1: the
// tool generates real load and must never be pointed at another machine.
var ErrNotLoopback = errors.New("loadgen: only loopback targets are allowed (127.0.0.0/8, ::1)")

// target is the resolved server address.
type target struct {
	base string // URL without a trailing slash, as given
	addr string // ip:port to dial
	host string // Host header
	ipv4 bool   // source addresses 127.0.0.x can be used
}

// resolveTarget parses an http:// base URL and checks that every address its
// host resolves to is a loopback address.
func resolveTarget(ctx context.Context, raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, fmt.Errorf("loadgen: server URL: %w", err)
	}
	if u.Scheme != "http" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return target{}, fmt.Errorf("loadgen: server URL must look like http://127.0.0.1:8080, not %q", raw)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
	}
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip", host)
	if err != nil {
		return target{}, fmt.Errorf("loadgen: resolve %q: %w", host, err)
	}
	if len(ips) == 0 {
		return target{}, fmt.Errorf("loadgen: %q has no address", host)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return target{}, fmt.Errorf("%w: %s resolves to %s", ErrNotLoopback, host, ip)
		}
	}
	// Prefer IPv4: subscribers then spread over 127.0.0.x source addresses.
	ip := ips[0]
	for _, c := range ips {
		if c.To4() != nil {
			ip = c
			break
		}
	}
	return target{
		base: u.Scheme + "://" + u.Host,
		addr: net.JoinHostPort(ip.String(), port),
		host: u.Host,
		ipv4: ip.To4() != nil,
	}, nil
}
