package server

import (
	"net"
	"net/http"
	"time"

	"github.com/flowgate/flowgate/internal/secrets"
)

// adminGuessing bounds guessing the admin token (which an operator may
// have chosen short): after MaxFailures wrong tokens from one address
// within Window, that address gets 429 from the management API, right
// token or not, so a guess that happens to be right cannot be told apart.
var adminGuessing = secrets.LimiterConfig{MaxFailures: 10, Window: 15 * time.Minute}

// AddressKey is whom a failed attempt is counted against: the client's IP,
// an IPv6 client's /64 (one host usually owns a whole /64, so counting
// single addresses would give it 2^64 budgets).
func AddressKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.To4() != nil {
		return host
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
