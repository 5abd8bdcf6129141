// Package netguard is the SSRF-safe dialer behind workflow HTTP. It refuses
// every address of the IANA IPv4 and IPv6 special-purpose address
// registries (loopback, private, link-local and cloud metadata, CGNAT,
// documentation, benchmarking, reserved, multicast…), every address of the
// host's own network interfaces, and IPv6 forms that embed such an IPv4
// address (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo). The check
// runs on the address actually dialled, so DNS rebinding and redirects to
// refused hosts are caught too.
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

// special is one range of the special-purpose registries and why it is refused.
type special struct {
	prefix netip.Prefix
	why    string
}

func ranges(why string, prefixes ...string) []special {
	out := make([]special, len(prefixes))
	for i, p := range prefixes {
		out[i] = special{netip.MustParsePrefix(p), why}
	}
	return out
}

// specialV4 is the IANA IPv4 Special-Purpose Address Registry (RFC 6890 and
// its updates) plus multicast, longest prefixes first where they overlap so
// the reason is the most precise one.
var specialV4 = concat(
	ranges("an unspecified address", "0.0.0.0/32"),
	ranges(`a "this network" address`, "0.0.0.0/8"),
	ranges("a loopback address", "127.0.0.0/8"),
	ranges("a private address", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"),
	ranges("a link-local address (cloud metadata lives here)", "169.254.0.0/16"),
	ranges("a shared (CGNAT) address", "100.64.0.0/10"),
	ranges("an IETF protocol assignment address", "192.0.0.0/24"),
	ranges("a documentation address", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"),
	ranges("an AS112 or AMT address", "192.31.196.0/24", "192.52.193.0/24", "192.175.48.0/24"),
	ranges("a 6to4 relay anycast address", "192.88.99.0/24"),
	ranges("a benchmarking address", "198.18.0.0/15"),
	ranges("a multicast address", "224.0.0.0/4"),
	ranges("a broadcast address", "255.255.255.255/32"),
	ranges("a reserved address", "240.0.0.0/4"),
)

// specialV6 is the IANA IPv6 Special-Purpose Address Registry plus
// multicast and the deprecated forms; the IPv4-embedding ranges are judged
// by the address they embed (see embedded4) before this list.
var specialV6 = concat(
	ranges("an unspecified address", "::/128"),
	ranges("a loopback address", "::1/128"),
	ranges("an IPv4-compatible address (deprecated)", "::/96"),
	ranges("an IPv4-translated (SIIT) address", "::ffff:0:0:0/96"),
	ranges("a local-use NAT64 address", "64:ff9b:1::/48"),
	ranges("a discard-only address", "100::/64", "100:0:0:1::/64"),
	ranges("a documentation address", "2001:db8::/32", "3fff::/20"),
	ranges("an IETF protocol assignment address", "2001::/23"),
	ranges("an AS112 address", "2620:4f:8000::/48"),
	ranges("an SRv6 SID address", "5f00::/16"),
	ranges("a private (unique local) address", "fc00::/7"),
	ranges("a link-local address", "fe80::/10"),
	ranges("a site-local address (deprecated)", "fec0::/10"),
	ranges("a multicast address", "ff00::/8"),
)

func concat(lists ...[]special) []special {
	var out []special
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

var (
	nat64   = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4  = netip.MustParsePrefix("2002::/16")
	teredo  = netip.MustParsePrefix("2001::/32")
	global6 = netip.MustParsePrefix("2000::/3")
)

// embedded4 returns the IPv4 addresses an IPv6 address carries and
// delivers to: NAT64 (last 32 bits), 6to4 (bits 16–47), Teredo (the
// server, and the client obfuscated in the last 32 bits).
func embedded4(a netip.Addr) []netip.Addr {
	b := a.As16()
	switch {
	case nat64.Contains(a):
		return []netip.Addr{netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})}
	case sixTo4.Contains(a):
		return []netip.Addr{netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})}
	case teredo.Contains(a):
		return []netip.Addr{
			netip.AddrFrom4([4]byte{b[4], b[5], b[6], b[7]}),
			netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}),
		}
	}
	return nil
}

// Classify says why addr may not be dialled, or "" when it is a public
// address. It does not know the host's own addresses; Dialer checks those.
func Classify(addr netip.Addr) string {
	addr = addr.WithZone("")
	if !addr.IsValid() {
		return "an invalid address"
	}
	if addr.Is4In6() {
		addr = addr.Unmap() // IPv4-mapped IPv6 reaches the IPv4 address
	}
	if addr.Is4() {
		for _, s := range specialV4 {
			if s.prefix.Contains(addr) {
				return s.why
			}
		}
		return ""
	}
	for _, v4 := range embedded4(addr) {
		if why := Classify(v4); why != "" {
			return "an IPv6 address embedding " + v4.String() + ", " + why
		}
	}
	for _, s := range specialV6 {
		if s.prefix.Contains(addr) {
			return s.why
		}
	}
	if !global6.Contains(addr) && !nat64.Contains(addr) {
		return "an unassigned IPv6 address (outside 2000::/3)"
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
// host:port, as written in the URL) skip the address checks.
type Dialer struct {
	Allow   []string
	Timeout time.Duration // connect timeout; default 10s
	// LocalAddrs lists the host's own addresses, refused like private
	// ones (a service bound to 0.0.0.0 answers on each of them). Nil
	// means the addresses of every network interface, read at each dial
	// so a new or changed interface is covered.
	LocalAddrs func() ([]netip.Addr, error)
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

// InterfaceAddrs is the addresses of every network interface of the host.
func InterfaceAddrs() ([]netip.Addr, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list the host's addresses: %w", err)
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		var ip net.IP
		switch v := a.(type) {
		case *net.IPNet:
			ip = v.IP
		case *net.IPAddr:
			ip = v.IP
		}
		if p, ok := netip.AddrFromSlice(ip); ok {
			out = append(out, p.Unmap())
		}
	}
	return out, nil
}

// Check says why the dialler may not connect to addr, or nil when it may.
// hostport names the host as requested, for the error.
func (d *Dialer) Check(hostport string, addr netip.Addr) error {
	addr = addr.WithZone("")
	shown := addr.Unmap().String()
	if why := Classify(addr); why != "" {
		return &BlockedError{Host: hostport, Addr: shown, Reason: why}
	}
	local := d.LocalAddrs
	if local == nil {
		local = InterfaceAddrs
	}
	own, err := local()
	if err != nil { // fail closed: an unknown own address could be this one
		return &BlockedError{Host: hostport, Addr: shown, Reason: "an address that could not be checked against the host's own"}
	}
	targets := append([]netip.Addr{addr.Unmap()}, embedded4(addr)...)
	for _, o := range own {
		for _, t := range targets {
			if o.WithZone("") == t {
				return &BlockedError{Host: hostport, Addr: shown, Reason: "an address of this host"}
			}
		}
	}
	return nil
}

// DialContext dials addr ("host:port"), refusing addresses Check refuses
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
			return d.Check(addr, ap.Addr())
		}
	}
	return nd.DialContext(ctx, network, addr)
}
