package outbound

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"syscall"

	"github.com/flowgate/flowgate/internal/netguard"
)

// What a workflow reads about a failed request names the host it asked
// for and what went wrong, never the host's network: its DNS resolver
// ("lookup x on 127.0.0.53:53"), its own source address and port, or the
// addresses a name resolved to (which would map a private DNS view).

// describeBlocked is a refusal; the address is shown only when the
// workflow wrote it itself.
func describeBlocked(b *netguard.BlockedError) string {
	h := b.Host
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	if _, err := netip.ParseAddr(trimBrackets(h)); err == nil {
		return b.Error()
	}
	return fmt.Sprintf("host %s is blocked: it resolves to %s; workflows may only reach public addresses "+
		"(in development, allow it with --allow-host %s)", b.Host, b.Reason, b.Host)
}

func trimBrackets(h string) string {
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		return h[1 : len(h)-1]
	}
	return h
}

// networkReason says why a request failed in words that hold no address.
func networkReason(err error) string {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		switch {
		case dns.IsNotFound:
			return "no such host"
		case dns.IsTimeout:
			return "the DNS lookup timed out"
		}
		return "the DNS lookup failed"
	}
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		record    tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknownCA):
		return "TLS: " + unknownCA.Error()
	case errors.As(err, &hostname):
		return "TLS: " + scrubAddresses(hostname.Error())
	case errors.As(err, &invalid):
		return "TLS: " + scrubAddresses(invalid.Error())
	case errors.As(err, &record):
		return "TLS handshake failed (is it an HTTPS server?)"
	}
	var op *net.OpError
	if errors.As(err, &op) {
		switch {
		case op.Timeout():
			return "the connection timed out"
		case errors.Is(err, syscall.ECONNREFUSED):
			return "connection refused"
		case errors.Is(err, syscall.ECONNRESET):
			return "connection reset by the server"
		case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
			return "the host is unreachable"
		}
		return "network error (" + op.Op + ")"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return scrubAddresses(err.Error())
}

// addrPattern matches IPv4 and IPv6 addresses, with an optional port.
var addrPattern = regexp.MustCompile(`\[?\b(?:\d{1,3}\.){3}\d{1,3}\b\]?(?::\d+)?|\[?(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}\]?(?::\d+)?`)

// scrubAddresses replaces every address in s.
func scrubAddresses(s string) string {
	return addrPattern.ReplaceAllString(s, "<address>")
}
