package secrets

import "net"

// AddressKey is whom a Limiter counts a failed attempt from, given a
// request's RemoteAddr: the client's IP, or an IPv6 client's /64 (one host
// usually owns a whole /64, so counting single addresses would give it
// 2^64 budgets).
func AddressKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String() // ::ffff:a.b.c.d is a.b.c.d
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
