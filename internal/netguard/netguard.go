// Package netguard is the SSRF-safe dialer behind workflow HTTP: it
// refuses loopback, private, link-local (cloud metadata included), CGNAT,
// multicast and unspecified addresses, checked on the address actually
// dialled so DNS rebinding and redirects to private hosts are caught too.
package netguard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// blockedPrefixes are the ranges a workflow may not reach (besides the
// classes netip.Addr can tell: loopback, private, link-local, multicast,
// unspecified).
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // CGNAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64 can reach IPv4 private space
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2002::/16"),       // 6to4 embeds an IPv4 address
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("::ffff:0:0:0/96"), // SIIT translated
}

// Classify says why addr may not be dialled, or "" when it is public.
func Classify(addr netip.Addr) string {
	addr = addr.Unmap() // IPv4-mapped IPv6 is judged as the IPv4 address
	switch {
	case !addr.IsValid():
		return "an invalid address"
	case addr.IsLoopback():
		return "a loopback address"
	case addr.IsUnspecified():
		return "an unspecified address"
	case addr.IsPrivate():
		return "a private address"
	case addr.Is4() && addr.As4()[0] == 169 && addr.As4()[1] == 254:
		return "a link-local address (cloud metadata lives here)"
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		return "a link-local address"
	case addr.IsMulticast(), addr.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	for _, p := range blockedPrefixes {
		if p.Contains(addr) {
			return "a reserved address"
		}
	}
	return ""
}

// BlockedError says a host was refused and how to allow it in development.
type BlockedError struct {
	Host   string // host[:port] as requested
	Addr   string // the address it resolved to
	Reason string // e.g. "a loopback address"
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("host %s is blocked: it resolves to %s, %s; workflows may only reach public addresses "+
		"(in development, allow it with --allow-host %s)", e.Host, e.Addr, e.Reason, e.Host)
}

// Dialer dials TCP for workflow HTTP clients. Hosts in Allow (host or
// host:port, as written in the URL) skip the address check.
type Dialer struct {
	Allow   []string
	Timeout time.Duration // connect timeout; default 10s
}

// Allowed reports whether hostport ("host:port") is on the allow-list.
func (d *Dialer) Allowed(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	for _, a := range d.Allow {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "" {
			continue
		}
		if strings.EqualFold(a, hostport) || strings.EqualFold(strings.Trim(a, "[]"), host) {
			return true
		}
	}
	return false
}

// DialContext dials addr ("host:port"), refusing non-public addresses
// at connect time unless the host is allowed.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	nd := &net.Dialer{Timeout: timeout}
	if !d.Allowed(addr) {
		nd.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &BlockedError{Host: addr, Addr: address, Reason: "an unparsable address"}
			}
			if why := Classify(ap.Addr()); why != "" {
				return &BlockedError{Host: addr, Addr: ap.Addr().Unmap().String(), Reason: why}
			}
			return nil
		}
	}
	return nd.DialContext(ctx, network, addr)
}
