package webhooks

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// These tests call the guard's check directly, or dial through a dialer
// whose Control refuses before connect: no test sends a packet anywhere but
// loopback.

func TestGuardRefusesNonPublicAddresses(t *testing.T) {
	g := NewGuard(false, nil)
	refused := []struct {
		ip   string
		want string // a word of the reason
	}{
		{"10.0.0.1", "private"},
		{"10.255.255.255", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.254", "private"},
		{"192.168.1.1", "private"},
		{"127.0.0.1", "loopback"},
		{"127.1.2.3", "loopback"},
		{"169.254.169.254", "link-local"},
		{"169.254.0.1", "link-local"},
		{"100.64.0.1", "carrier-grade"},
		{"100.127.255.254", "carrier-grade"},
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "this network"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"255.255.255.255", "broadcast"},
		{"198.18.0.1", "benchmarking"},
		{"192.0.0.170", "protocol"},
		{"::", "unspecified"},
		{"::1", "loopback"},
		{"fc00::1", "private"},
		{"fd12:3456:789a::1", "private"},
		{"fe80::1", "link-local"},
		{"febf::1", "link-local"},
		{"fec0::1", "site-local"},
		{"ff02::1", "multicast"},
		{"ff05::2", "multicast"},
		// IPv4-mapped forms are judged as the IPv4 address they are.
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:10.1.2.3", "private"},
		{"::ffff:172.16.5.4", "private"},
		{"::ffff:192.168.0.1", "private"},
		{"::ffff:169.254.169.254", "link-local"},
		{"::ffff:100.64.1.1", "carrier-grade"},
		{"::ffff:0.0.0.0", "unspecified"},
		{"::ffff:224.0.0.1", "multicast"},
		// Forms that translators route to an embedded IPv4 address.
		{"::127.0.0.1", "IPv4-compatible"},
		{"64:ff9b::a9fe:a9fe", "link-local"},
		{"64:ff9b::7f00:1", "loopback"},
		{"2002:c0a8:0101::1", "private"},
		{"2002:7f00:1::1", "loopback"},
		{"64:ff9b:1::1", "NAT64"},
		{"2001::1", "Teredo"},
	}
	for _, tc := range refused {
		t.Run(tc.ip, func(t *testing.T) {
			err := g.Check(netip.AddrPortFrom(netip.MustParseAddr(tc.ip), 443))
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("Check(%s) = %v; want ErrRefused", tc.ip, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check(%s) = %q; want the reason to mention %q", tc.ip, err, tc.want)
			}
		})
	}
}

func TestGuardAllowsPublicAddresses(t *testing.T) {
	g := NewGuard(false, nil)
	for _, ip := range []string{
		"1.1.1.1", "8.8.8.8", "93.184.215.14", "172.15.255.255", "172.32.0.1",
		"100.63.255.255", "100.128.0.1", "169.253.255.255", "192.169.0.1",
		"2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8",
		"64:ff9b::808:808", "2002:808:808::1",
	} {
		if err := g.Check(netip.AddrPortFrom(netip.MustParseAddr(ip), 443)); err != nil {
			t.Errorf("Check(%s) = %v; want allowed", ip, err)
		}
	}
}

func TestGuardOperatorExceptions(t *testing.T) {
	everything := NewGuard(true, nil)
	for _, ip := range []string{"127.0.0.1", "10.0.0.1", "169.254.169.254", "::1"} {
		if err := everything.Check(netip.AddrPortFrom(netip.MustParseAddr(ip), 80)); err != nil {
			t.Errorf("with private allowed, Check(%s) = %v", ip, err)
		}
	}
	one := NewGuard(false, []netip.AddrPort{netip.MustParseAddrPort("10.0.0.5:8443")})
	tests := []struct {
		addr string
		ok   bool
	}{
		{"10.0.0.5:8443", true},
		{"[::ffff:10.0.0.5]:8443", true}, // the same address, mapped
		{"10.0.0.5:443", false},          // another port
		{"10.0.0.6:8443", false},
	}
	for _, tc := range tests {
		err := one.Check(netip.MustParseAddrPort(tc.addr))
		if (err == nil) != tc.ok {
			t.Errorf("Check(%s) = %v; want allowed %v", tc.addr, err, tc.ok)
		}
	}
}

func TestGuardControl(t *testing.T) {
	g := NewGuard(false, nil)
	tests := []struct {
		network, address string
		ok               bool
	}{
		{"tcp4", "8.8.8.8:443", true},
		{"tcp6", "[2606:4700:4700::1111]:443", true},
		{"tcp4", "169.254.169.254:80", false},
		{"tcp6", "[fe80::1%eth0]:80", false},
		{"tcp6", "[::ffff:127.0.0.1]:80", false},
		{"udp4", "8.8.8.8:53", false},
		{"tcp4", "not-an-address", false},
	}
	for _, tc := range tests {
		err := g.Control(tc.network, tc.address, nil)
		if (err == nil) != tc.ok {
			t.Errorf("Control(%s, %s) = %v; want allowed %v", tc.network, tc.address, err, tc.ok)
		}
	}
}

// A dialer with the guard's Control never connects to a refused address:
// the refusal comes back before connect. Only loopback is dialed here.
func TestGuardStopsTheDialerBeforeConnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	d := &net.Dialer{Timeout: time.Second, Control: NewGuard(false, nil).Control}
	_, err = d.DialContext(context.Background(), "tcp", ln.Addr().String())
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("dial %s: %v; want ErrRefused", ln.Addr(), err)
	}
	select {
	case <-accepted:
		t.Fatal("the listener accepted a connection the guard refused")
	case <-time.After(100 * time.Millisecond):
	}
}
