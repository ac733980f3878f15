package webhooks

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
)

// ErrRefused is wrapped by the error of a connection the guard refused: its
// address is not a public unicast address.
var ErrRefused = errors.New("webhooks: address refused by the network guard")

// Guard decides which addresses webhooks may connect to. Its Control method
// runs inside the dialer, after DNS and before connect, on every connection
// (redirects included), so neither DNS rebinding nor a redirect can steer a
// webhook to an address that a check of the URL alone would have refused.
type Guard struct {
	allowPrivate bool
	allow        map[netip.AddrPort]bool
	reserved     []reservedRange
}

type reservedRange struct {
	prefix netip.Prefix
	why    string
}

// NewGuard returns a guard that refuses every address that is not public
// unicast. allowPrivate lifts that (development and tests); allow lists
// exact addresses the operator permits anyway, e.g. an internal service.
func NewGuard(allowPrivate bool, allow []netip.AddrPort) *Guard {
	g := &Guard{allowPrivate: allowPrivate, allow: make(map[netip.AddrPort]bool)}
	for _, ap := range allow {
		g.allow[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())] = true
	}
	// Ranges netip's predicates do not cover: special-purpose blocks from
	// the IANA registries that are not reachable public hosts.
	for _, r := range []struct{ cidr, why string }{
		{"0.0.0.0/8", `"this network"`},
		{"100.64.0.0/10", "shared address space (carrier-grade NAT)"},
		{"192.0.0.0/24", "reserved for protocol assignments"},
		{"192.0.2.0/24", "reserved for documentation"},
		{"192.88.99.0/24", "a 6to4 relay"},
		{"198.18.0.0/15", "reserved for benchmarking"},
		{"198.51.100.0/24", "reserved for documentation"},
		{"203.0.113.0/24", "reserved for documentation"},
		{"240.0.0.0/4", "reserved (or broadcast)"},
		{"::/96", "an IPv4-compatible address"},
		{"64:ff9b:1::/48", "local-use NAT64"},
		{"100::/64", "discard-only"},
		{"2001::/32", "Teredo"},
		{"2001:db8::/32", "reserved for documentation"},
		{"fec0::/10", "site-local"},
	} {
		g.reserved = append(g.reserved, reservedRange{netip.MustParsePrefix(r.cidr), r.why})
	}
	return g
}

// Check returns nil if a webhook may connect to addr, else an error wrapping
// ErrRefused that says why.
func (g *Guard) Check(addr netip.AddrPort) error {
	ip := addr.Addr().WithZone("").Unmap()
	if g.allowPrivate || g.allow[netip.AddrPortFrom(ip, addr.Port())] {
		return nil
	}
	if why := g.classify(ip); why != "" {
		return fmt.Errorf("%w: %s is %s", ErrRefused, ip, why)
	}
	return nil
}

// Control is a net.Dialer Control function applying Check to the address
// being dialed. It refuses anything but TCP.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	if !strings.HasPrefix(network, "tcp") {
		return fmt.Errorf("%w: network %q", ErrRefused, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparsable address %q", ErrRefused, address)
	}
	return g.Check(ap)
}

// classify returns why ip is not a public unicast address, or "".
func (g *Guard) classify(ip netip.Addr) string {
	if v4, ok := embeddedIPv4(ip); ok {
		// A translator or relay would carry the connection on to v4.
		if why := g.classify(v4); why != "" {
			return why + " (embedded in " + ip.String() + ")"
		}
	}
	switch {
	case !ip.IsValid():
		return "not an IP address"
	case ip.IsUnspecified():
		return "unspecified (it reaches this host)"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsLinkLocalUnicast():
		return "link-local (cloud metadata services live there)"
	case ip.IsMulticast():
		return "multicast"
	case ip.IsPrivate():
		return "private"
	}
	for _, r := range g.reserved {
		if r.prefix.Contains(ip) {
			return r.why
		}
	}
	return ""
}

// embeddedIPv4 returns the IPv4 address that NAT64 (64:ff9b::/96) and 6to4
// (2002::/16) addresses route to.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	if !ip.Is6() {
		return netip.Addr{}, false
	}
	b := ip.As16()
	switch {
	case b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && isZero(b[4:12]):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case b[0] == 0x20 && b[1] == 0x02:
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
