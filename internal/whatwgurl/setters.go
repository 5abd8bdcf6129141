package whatwgurl

import (
	"strconv"
	"strings"
)

// Getters of the parts the setters change, as Node's URL shows them.

// Scheme is the lower-case scheme without its colon ("https").
func (u *URL) Scheme() string { return u.scheme }

// Protocol is the scheme with its colon ("https:").
func (u *URL) Protocol() string { return u.scheme + ":" }

// Username is the percent-encoded user name.
func (u *URL) Username() string { return u.username }

// Password is the percent-encoded password.
func (u *URL) Password() string { return u.password }

// Hostname is the host without its port ("" for a URL without one).
func (u *URL) Hostname() string { return deref(u.host) }

// Port is the port, "" when it is absent or the scheme's default.
func (u *URL) Port() string { return u.port }

// HasHost reports whether the URL has an authority with a non-empty host.
func (u *URL) HasHost() bool { return u.host != nil && *u.host != "" }

// Query is the percent-encoded query without "?"; ok is false when the
// URL has none.
func (u *URL) Query() (q string, ok bool) {
	if u.query == nil {
		return "", false
	}
	return *u.query, true
}

// SetQuery replaces the query with an already-encoded one (what
// URLSearchParams writes back); an empty q removes it.
func (u *URL) SetQuery(q string) {
	if q == "" {
		u.query = nil
		return
	}
	u.query = &q
}

// SetProtocol is the protocol setter: only between special schemes, or
// between non-special ones.
func (u *URL) SetProtocol(v string) {
	scheme, _, _ := strings.Cut(v, ":")
	n, err := Parse(scheme+":"+strings.TrimPrefix(u.Href(), u.scheme+":"), nil)
	if err == nil && IsSpecial(n.scheme) == IsSpecial(u.scheme) {
		u.scheme = n.scheme
		if u.port == defaultPorts[u.scheme] {
			u.port = ""
		}
	}
}

// SetUsername is the username setter (ignored without a host, and for file:).
func (u *URL) SetUsername(v string) {
	if u.HasHost() && u.scheme != "file" {
		u.username = percentEncode(v, userinfoSet)
	}
}

// SetPassword is the password setter.
func (u *URL) SetPassword(v string) {
	if u.HasHost() && u.scheme != "file" {
		u.password = percentEncode(v, userinfoSet)
	}
}

// SetHost is the host setter: a host, with a port when v has one.
func (u *URL) SetHost(v string) {
	if n, err := Parse(u.scheme+"://"+v, nil); err == nil && u.opaque == nil && n.HasHost() {
		u.host = n.host
		if strings.Contains(strings.TrimPrefix(v, *n.host), ":") {
			u.port = n.port
		}
	}
}

// SetHostname is the hostname setter: a host only, never a port.
func (u *URL) SetHostname(v string) {
	if strings.Contains(strings.Trim(v, "[]"), ":") && !strings.HasPrefix(v, "[") {
		return
	}
	if n, err := Parse(u.scheme+"://"+v, nil); err == nil && u.opaque == nil && n.HasHost() && n.port == "" {
		u.host = n.host
	}
}

// SetPort is the port setter: leading digits of v, the default port cleared.
func (u *URL) SetPort(v string) {
	if !u.HasHost() || u.scheme == "file" {
		return
	}
	if v == "" {
		u.port = ""
		return
	}
	digits := v[:len(v)-len(strings.TrimLeft(v, "0123456789"))]
	n, err := strconv.Atoi(digits)
	if err != nil || n > 65535 {
		return
	}
	u.port = strconv.Itoa(n)
	if u.port == defaultPorts[u.scheme] {
		u.port = ""
	}
}

// SetPathname is the pathname setter (ignored for opaque paths).
func (u *URL) SetPathname(v string) {
	if u.opaque != nil {
		return
	}
	special := IsSpecial(u.scheme)
	if !strings.HasPrefix(v, "/") && !(special && strings.HasPrefix(v, `\`)) {
		v = "/" + v
	}
	v = strings.NewReplacer("?", "%3F", "#", "%23").Replace(v)
	u.path = resolveSegments(nil, v, special)
}

// SetSearch is the search setter: v with or without its "?".
func (u *URL) SetSearch(v string) {
	v = strings.TrimPrefix(v, "?")
	if v == "" {
		u.query = nil
		return
	}
	set := querySet
	if IsSpecial(u.scheme) {
		set = specialQS
	}
	q := percentEncode(v, set)
	u.query = &q
}

// SetHash is the hash setter: v with or without its "#".
func (u *URL) SetHash(v string) {
	v = strings.TrimPrefix(v, "#")
	if v == "" {
		u.fragment = nil
		return
	}
	f := percentEncode(v, fragmentSet)
	u.fragment = &f
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
