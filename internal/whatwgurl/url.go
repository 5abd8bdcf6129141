// Package whatwgurl parses and serialises URLs as the WHATWG URL Standard
// (and so Node's URL class) does, and the application/x-www-form-urlencoded
// format URLSearchParams uses. It knows nothing of JavaScript: the
// workflow bindings wrap it for URL and URLSearchParams, and kinde.fetch
// parses every URL it is given with it.
package whatwgurl

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// URL is a parsed URL in the WHATWG model Node implements: the parts are
// kept serialised (percent-encoded) so Href is their join. The zero value
// is not a URL; make one with Parse.
type URL struct {
	scheme   string
	username string
	password string
	host     *string // nil when the URL has no authority
	port     string  // "" for none or the scheme's default
	path     []string
	opaque   *string // an opaque path (mailto:x) instead of segments
	query    *string
	fragment *string
}

// ErrInvalid is the error of every input that is not a URL.
//
//lint:ignore ST1005 the exact message Node gives, which workflow code may compare against
var ErrInvalid = errors.New("Invalid URL")

var defaultPorts = map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443", "ftp": "21", "file": ""}

// IsSpecial reports whether scheme is one of the standard's special
// schemes (http, https, ws, wss, ftp, file).
func IsSpecial(scheme string) bool { _, ok := defaultPorts[scheme]; return ok }

// Percent-encode sets (WHATWG URL §1.3), beyond C0 controls and non-ASCII.
const (
	fragmentSet = " \"<>`"
	querySet    = " \"#<>"
	specialQS   = " \"#<>'"
	pathSet     = " \"#<>?`{}"
	userinfoSet = " \"#<>?`{}/:;=@[\\]^|"
)

func percentEncode(s, set string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || strings.IndexByte(set, c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Parse parses input, resolved against base when it is relative (base may
// be nil). The error is ErrInvalid.
func Parse(input string, base *URL) (*URL, error) {
	input = strings.TrimFunc(input, func(r rune) bool { return r <= ' ' })
	input = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(input)
	scheme, rest, hasScheme := splitScheme(input)
	if !hasScheme {
		if base == nil {
			return nil, ErrInvalid
		}
		return resolve(input, base)
	}
	u := &URL{scheme: scheme}
	special := IsSpecial(scheme)
	switch {
	case special && base != nil && base.scheme == scheme && !strings.HasPrefix(rest, "/") && !strings.HasPrefix(rest, `\`):
		return resolve(rest, base) // "http:foo" against an http base is relative
	case scheme == "file":
		return u, u.parseFile(rest)
	case special:
		return u, u.parseAuthority(strings.TrimLeft(rest, `/\`))
	case strings.HasPrefix(rest, "//"):
		return u, u.parseAuthority(rest[2:])
	case strings.HasPrefix(rest, "/"):
		return u, u.parsePathQuery(rest, nil)
	}
	// An opaque path: mailto:, urn:, data: …
	body, frag, hasFrag := strings.Cut(rest, "#")
	body, q, hasQ := strings.Cut(body, "?")
	op := percentEncode(body, "")
	u.opaque = &op
	if hasQ {
		q = percentEncode(q, querySet)
		u.query = &q
	}
	if hasFrag {
		frag = percentEncode(frag, fragmentSet)
		u.fragment = &frag
	}
	return u, nil
}

// splitScheme returns the lower-cased scheme and what follows its colon.
func splitScheme(s string) (scheme, rest string, ok bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return strings.ToLower(s[:i]), s[i+1:], true
		default:
			return "", s, false
		}
	}
	return "", s, false
}

// resolve parses a relative reference against base.
func resolve(in string, base *URL) (*URL, error) {
	u := *base
	u.path = append([]string(nil), base.path...)
	special := IsSpecial(base.scheme)
	if base.opaque != nil {
		if !strings.HasPrefix(in, "#") {
			return nil, ErrInvalid
		}
		f := percentEncode(in[1:], fragmentSet)
		u.fragment = &f
		return &u, nil
	}
	isSlash := func(c byte) bool { return c == '/' || special && c == '\\' }
	switch {
	case len(in) >= 2 && isSlash(in[0]) && isSlash(in[1]):
		n := &URL{scheme: base.scheme}
		return n, n.parseAuthority(in[2:])
	case in == "":
		u.fragment = nil
		return &u, nil
	case in[0] == '?' || in[0] == '#':
		u.fragment = nil
		if in[0] == '?' {
			u.query = nil
		}
		return &u, u.parsePathQuery(in, u.path)
	case isSlash(in[0]):
		u.query, u.fragment = nil, nil
		return &u, u.parsePathQuery(in, nil)
	}
	u.query, u.fragment = nil, nil
	dir := u.path
	if len(dir) > 0 {
		dir = dir[:len(dir)-1]
	}
	return &u, u.parsePathQuery("/"+in, dir)
}

// parseFile reads what follows "file:": an optional host (never with
// credentials or a port; "localhost" means none; a Windows drive letter
// is a path, not a host), then the path.
func (u *URL) parseFile(rest string) error {
	empty := ""
	u.host = &empty
	if len(rest) >= 2 && isSlash(rest[0]) && isSlash(rest[1]) {
		after := rest[2:]
		end := strings.IndexAny(after, `/\?#`)
		if end < 0 {
			end = len(after)
		}
		auth := after[:end]
		if isDriveLetter(auth) {
			return u.parsePathQuery("/"+after, nil)
		}
		if strings.ContainsAny(auth, "@") || strings.Contains(strings.TrimSuffix(strings.TrimPrefix(auth, "["), "]"), ":") && !strings.HasPrefix(auth, "[") {
			return ErrInvalid
		}
		host, err := parseHost(auth, true)
		if err != nil {
			return err
		}
		if host == "localhost" {
			host = ""
		}
		u.host = &host
		rest = after[end:]
	}
	if rest != "" && !isSlash(rest[0]) && rest[0] != '?' && rest[0] != '#' {
		rest = "/" + rest
	}
	return u.parsePathQuery(rest, nil)
}

func isSlash(c byte) bool { return c == '/' || c == '\\' }

// isDriveLetter reports whether s is a Windows drive letter: "C:" or "C|".
func isDriveLetter(s string) bool {
	return len(s) == 2 && (s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') && (s[1] == ':' || s[1] == '|')
}

// parseAuthority reads userinfo@host:port, then the path, query and fragment.
func (u *URL) parseAuthority(s string) error {
	special := IsSpecial(u.scheme)
	end := len(s)
	stops := "/?#"
	if special {
		stops += `\`
	}
	if i := strings.IndexAny(s, stops); i >= 0 {
		end = i
	}
	auth, rest := s[:end], s[end:]
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		user, pass, _ := strings.Cut(auth[:at], ":")
		u.username = percentEncode(user, userinfoSet)
		u.password = percentEncode(pass, userinfoSet)
		auth = auth[at+1:]
	}
	hostPart, port := auth, ""
	if strings.HasPrefix(auth, "[") {
		if i := strings.IndexByte(auth, ']'); i >= 0 {
			hostPart, port = auth[:i+1], auth[i+1:]
			if port != "" && port[0] != ':' {
				return ErrInvalid
			}
			port = strings.TrimPrefix(port, ":")
		}
	} else if i := strings.LastIndexByte(auth, ':'); i >= 0 {
		hostPart, port = auth[:i], auth[i+1:]
	}
	host, err := parseHost(hostPart, special)
	if err != nil {
		return err
	}
	if host == "" && special && u.scheme != "file" {
		return ErrInvalid
	}
	u.host = &host
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 0 || n > 65535 || strings.TrimLeft(port, "0123456789") != "" {
			return ErrInvalid
		}
		port = strconv.Itoa(n)
		if port == defaultPorts[u.scheme] && special {
			port = ""
		}
	}
	u.port = port
	return u.parsePathQuery(rest, nil)
}

// parsePathQuery reads a path (appended to dir's segments), query and fragment.
func (u *URL) parsePathQuery(s string, dir []string) error {
	special := IsSpecial(u.scheme)
	rest, frag, hasFrag := strings.Cut(s, "#")
	p, q, hasQ := strings.Cut(rest, "?")
	if hasQ {
		set := querySet
		if special {
			set = specialQS
		}
		q = percentEncode(q, set)
		u.query = &q
	}
	if hasFrag {
		frag = percentEncode(frag, fragmentSet)
		u.fragment = &frag
	}
	if p == "" && (hasQ || hasFrag) && dir != nil {
		u.path = dir // "?q" or "#f" keep the base path
		return nil
	}
	u.path = resolveSegments(dir, p, special)
	return nil
}

// resolveSegments applies path p (which starts with a slash, or is empty)
// to the segments dir, handling "." and ".." like the WHATWG parser.
func resolveSegments(dir []string, p string, special bool) []string {
	segs := append([]string(nil), dir...)
	if p == "" {
		if special && len(segs) == 0 {
			return []string{""}
		}
		return segs
	}
	if special {
		p = strings.ReplaceAll(p, `\`, "/")
	}
	parts := strings.Split(p[1:], "/")
	for i, part := range parts {
		last := i == len(parts)-1
		switch strings.ToLower(part) {
		case "..", ".%2e", "%2e.", "%2e%2e":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
			if last {
				segs = append(segs, "")
			}
		case ".", "%2e":
			if last {
				segs = append(segs, "")
			}
		default:
			segs = append(segs, percentEncode(part, pathSet))
		}
	}
	return segs
}

// parseHost parses a host: IPv6 in brackets, an IPv4 number in any WHATWG
// spelling, or a domain (lower-cased, IDNA to ASCII); non-special schemes
// keep an opaque, percent-encoded host.
func parseHost(s string, special bool) (string, error) {
	if strings.HasPrefix(s, "[") {
		if !strings.HasSuffix(s, "]") {
			return "", ErrInvalid
		}
		a, err := netip.ParseAddr(s[1 : len(s)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", ErrInvalid
		}
		return "[" + ipv6String(a) + "]", nil
	}
	if !special {
		if strings.ContainsAny(s, " #/:<>?@[\\]^|") {
			return "", ErrInvalid
		}
		return percentEncode(s, ""), nil
	}
	domain := formDecodePercent(s)
	if !IsASCII(domain) || strings.Contains(strings.ToLower(domain), "xn--") {
		if !utf8.ValidString(domain) {
			return "", ErrInvalid
		}
		a, err := idna.Lookup.ToASCII(domain)
		if err != nil {
			return "", ErrInvalid
		}
		if again, err := idna.Lookup.ToASCII(a); err != nil || again != a {
			return "", ErrInvalid // the result must itself be a valid host
		}
		domain = a
	}
	domain = strings.ToLower(domain)
	if domain == "" {
		return "", nil
	}
	if strings.ContainsAny(domain, "\x00\t\n\r #%/:<>?@[\\]^|\x7f") {
		return "", ErrInvalid
	}
	if endsInNumber(domain) {
		return parseIPv4(domain)
	}
	return domain, nil
}

// formDecodePercent decodes %XX escapes (no + handling) for hosts.
func formDecodePercent(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	return FormDecode(strings.ReplaceAll(s, "+", "%2B"))
}

func endsInNumber(d string) bool {
	labels := strings.Split(d, ".")
	if labels[len(labels)-1] == "" && len(labels) > 1 {
		labels = labels[:len(labels)-1]
	}
	last := labels[len(labels)-1]
	if last != "" && strings.Trim(last, "0123456789") == "" {
		return true
	}
	if h, ok := strings.CutPrefix(last, "0x"); ok {
		return strings.Trim(h, "0123456789abcdef") == ""
	}
	return false
}

// parseIPv4 accepts 1–4 dot-separated decimal, octal (0…) or hex (0x…)
// numbers, the last filling the remaining bytes, as browsers do.
func parseIPv4(d string) (string, error) {
	parts := strings.Split(d, ".")
	if parts[len(parts)-1] == "" && len(parts) > 1 {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 4 {
		return "", ErrInvalid
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		base, digits := 10, p
		switch {
		case strings.HasPrefix(p, "0x"):
			base, digits = 16, p[2:]
		case len(p) > 1 && p[0] == '0':
			base, digits = 8, p[1:]
		}
		if digits == "" {
			if base == 10 {
				return "", ErrInvalid
			}
			continue
		}
		n, err := strconv.ParseUint(digits, base, 64)
		if err != nil {
			return "", ErrInvalid
		}
		nums[i] = n
	}
	var v uint64
	for i, n := range nums[:len(nums)-1] {
		if n > 255 {
			return "", ErrInvalid
		}
		v |= n << (8 * (3 - i))
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return "", ErrInvalid
	}
	v |= last
	return strconv.Itoa(int(v>>24)) + "." + strconv.Itoa(int(v>>16&255)) + "." +
		strconv.Itoa(int(v>>8&255)) + "." + strconv.Itoa(int(v&255)), nil
}

// ipv6String is the WHATWG serialisation: hex pieces, longest zero run compressed.
func ipv6String(a netip.Addr) string {
	b := a.As16()
	var w [8]uint16
	for i := range w {
		w[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	bestStart, bestLen := -1, 1
	for i := 0; i < 8; {
		if w[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && w[j] == 0 {
			j++
		}
		if j-i > bestLen {
			bestStart, bestLen = i, j-i
		}
		i = j
	}
	var s strings.Builder
	for i := 0; i < 8; i++ {
		if i == bestStart {
			s.WriteString("::")
			i += bestLen - 1
			continue
		}
		if i > 0 && i != bestStart+bestLen {
			s.WriteByte(':')
		}
		s.WriteString(strconv.FormatUint(uint64(w[i]), 16))
	}
	return s.String()
}

// Serialisation of the parts (the URL getters).

// Pathname is the path, or the opaque path of a URL such as mailto:x.
func (u *URL) Pathname() string {
	if u.opaque != nil {
		return *u.opaque
	}
	if len(u.path) == 0 {
		return ""
	}
	return "/" + strings.Join(u.path, "/")
}

// Host is the host with its port unless the port is the scheme's default.
func (u *URL) Host() string {
	if u.host == nil {
		return ""
	}
	if u.port != "" {
		return *u.host + ":" + u.port
	}
	return *u.host
}

// Search is "?" and the query, or "" when the query is empty or absent.
func (u *URL) Search() string {
	if u.query == nil || *u.query == "" {
		return ""
	}
	return "?" + *u.query
}

// Hash is "#" and the fragment, or "" when the fragment is empty or absent.
func (u *URL) Hash() string {
	if u.fragment == nil || *u.fragment == "" {
		return ""
	}
	return "#" + *u.fragment
}

// Origin is scheme://host[:port] for special schemes but file, else "null".
func (u *URL) Origin() string {
	if IsSpecial(u.scheme) && u.scheme != "file" {
		return u.scheme + "://" + u.Host()
	}
	return "null"
}

// Href is the whole serialised URL.
func (u *URL) Href() string {
	var b strings.Builder
	b.WriteString(u.scheme + ":")
	if u.host != nil {
		b.WriteString("//")
		if u.username != "" || u.password != "" {
			b.WriteString(u.username)
			if u.password != "" {
				b.WriteString(":" + u.password)
			}
			b.WriteByte('@')
		}
		b.WriteString(u.Host())
	} else if u.opaque == nil && len(u.path) > 1 && u.path[0] == "" {
		b.WriteString("/.") // keep "//" in a host-less path from reading as an authority
	}
	b.WriteString(u.Pathname())
	if u.query != nil {
		b.WriteString("?" + *u.query)
	}
	if u.fragment != nil {
		b.WriteString("#" + *u.fragment)
	}
	return b.String()
}

// EncodedForms are the spellings s takes in the parts of a URL the
// parser percent-encodes differently (query, special query, fragment,
// path, userinfo): what redaction must look for when a secret travels
// inside a URL.
func EncodedForms(s string) []string {
	sets := []string{fragmentSet, querySet, specialQS, pathSet, userinfoSet}
	out := make([]string, 0, len(sets))
	for _, set := range sets {
		out = append(out, percentEncode(s, set))
	}
	return out
}
