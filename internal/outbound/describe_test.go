package outbound

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/flowgate/flowgate/internal/netguard"
)

// Issue 14: a fetch error showed the host's DNS resolver ("dial udp
// 127.0.0.53:53"). What a workflow reads holds no address of the host's
// network.
func TestDescribeHidesHostNetwork(t *testing.T) {
	s := NewSession(context.Background(), nil, nil)
	resolverDown := &net.DNSError{Err: "dial udp 127.0.0.53:53: connect: connection refused", Name: "api.example.com", Server: "127.0.0.53:53"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"resolver unreachable", &url.Error{Op: "Get", URL: "https://api.example.com/", Err: resolverDown}, "the DNS lookup failed"},
		{"no such host", &net.DNSError{Err: "no such host", Name: "x.invalid", Server: "10.0.0.2:53", IsNotFound: true}, "no such host"},
		{"DNS timeout", &net.DNSError{Err: "i/o timeout", Name: "x", Server: "[fd00::53]:53", IsTimeout: true}, "the DNS lookup timed out"},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Source: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 40000},
			Addr: &net.TCPAddr{IP: net.IPv4(93, 184, 216, 34), Port: 443}, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, "connection refused"},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Source: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 40000},
			Err: os.NewSyscallError("read", syscall.ECONNRESET)}, "connection reset by the server"},
		{"other", errors.New("proxyconnect tcp: dial tcp 10.9.8.7:3128 and [fe80::1]:8080 failed"), "proxyconnect tcp: dial tcp <address> and <address> failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Describe("api.example.com", tt.err)
			if got != "request to api.example.com failed: "+tt.want {
				t.Errorf("got %q, want the reason %q", got, tt.want)
			}
			if addrPattern.MatchString(got) {
				t.Errorf("%q holds an address", got)
			}
		})
	}
	// A refused name does not say what it resolved to; a refused address
	// the workflow wrote is shown as written.
	named := s.Describe("internal.example:443", &netguard.BlockedError{Host: "internal.example:443", Addr: "10.20.30.40", Reason: "a private address"})
	if strings.Contains(named, "10.20.30.40") || !strings.Contains(named, "is blocked: it resolves to a private address") {
		t.Errorf("named host: %q", named)
	}
	literal := s.Describe("10.0.0.1:9", &netguard.BlockedError{Host: "10.0.0.1:9", Addr: "10.0.0.1", Reason: "a private address"})
	if !strings.Contains(literal, "resolves to 10.0.0.1, a private address") {
		t.Errorf("literal host: %q", literal)
	}
}

// Through the real resolver and dialler: whatever this machine's DNS
// answers for a name that cannot exist, the message shows no address.
func TestUnresolvableHostShowsNoResolver(t *testing.T) {
	s := NewSession(context.Background(), &Policy{AllowHosts: []string{"flowgate-test.invalid"}}, nil)
	_, err := s.Do(Request{Method: "GET", URL: "http://flowgate-test.invalid/"})
	if err == nil {
		t.Fatal("a .invalid name resolved")
	}
	msg := s.Describe("flowgate-test.invalid", err)
	t.Logf("raw %v; shown %q", err, msg)
	if addrPattern.MatchString(msg) || strings.Contains(msg, "lookup") {
		t.Fatalf("%q (from %v) shows the host's network", msg, err)
	}
}
