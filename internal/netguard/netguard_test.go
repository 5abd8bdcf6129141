package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		addr string
		want string // "" = public
	}{
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"2606:4700:4700::1111", ""},
		{"127.0.0.1", "a loopback address"},
		{"127.255.0.9", "a loopback address"},
		{"::1", "a loopback address"},
		{"10.1.2.3", "a private address"},
		{"172.16.0.1", "a private address"},
		{"192.168.1.1", "a private address"},
		{"fd00::1", "a private address"},
		{"169.254.169.254", "a link-local address (cloud metadata lives here)"},
		{"fe80::1", "a link-local address"},
		{"0.0.0.0", "an unspecified address"},
		{"::", "an unspecified address"},
		{"100.64.0.1", "a reserved address"},
		{"239.1.2.3", "a multicast address"},
		{"ff0e::1", "a multicast address"},
		{"::ffff:127.0.0.1", "a loopback address"},
		{"::ffff:169.254.169.254", "a link-local address (cloud metadata lives here)"},
		{"::ffff:10.0.0.1", "a private address"},
		{"64:ff9b::a00:1", "a reserved address"},
		{"2002:7f00:1::", "a reserved address"},
		{"255.255.255.255", "a reserved address"},
	}
	for _, tc := range tests {
		if got := Classify(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("Classify(%s) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

func TestDialerRefusesAndAllows(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	tests := []struct {
		name  string
		allow []string
		dial  string
		ok    bool
	}{
		{"loopback refused", nil, addr, false},
		{"allowed by host:port", []string{addr}, addr, true},
		{"allowed by host", []string{"127.0.0.1"}, addr, true},
		{"other port not allowed", []string{"127.0.0.1:1"}, addr, false},
		{"name resolving to loopback refused", []string{addr}, "localhost:" + port, false},
		{"allowed by name", []string{"localhost:" + port}, "localhost:" + port, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &Dialer{Allow: tc.allow}
			c, err := d.DialContext(context.Background(), "tcp", tc.dial)
			if c != nil {
				c.Close()
			}
			var be *BlockedError
			if tc.ok && err != nil || !tc.ok && !errors.As(err, &be) {
				t.Fatalf("dial %s with allow %v: err = %v", tc.dial, tc.allow, err)
			}
			if !tc.ok && !strings.Contains(err.Error(), "--allow-host "+tc.dial) {
				t.Errorf("error does not say how to allow: %v", err)
			}
		})
	}
}
