// Package whatwgurl parses and serialises URLs as the WHATWG URL Standard
// (and so Node's URL class) does, and the application/x-www-form-urlencoded
// format URLSearchParams uses. The URL parser is github.com/nlnwa/whatwg-url;
// this package is the small surface the workflow bindings and kinde.fetch
// use, checked against what Node records (testdata/node.json).
package whatwgurl

import (
	"errors"
	"fmt"
	"strings"

	wurl "github.com/nlnwa/whatwg-url/url"
)

// URL is a parsed URL. The zero value is not a URL; make one with Parse.
type URL struct {
	u *wurl.Url
	// query, when set, is a query SetQuery wrote (the library's is then
	// absent): URLSearchParams writes its whole list back on every change,
	// and passing megabytes through the parser each time cost seconds.
	query *string
}

// ErrInvalid is the error of every input that is not a URL.
//
//lint:ignore ST1005 the exact message Node gives, which workflow code may compare against
var ErrInvalid = errors.New("Invalid URL")

// ErrTooComplex is the error of a URL past the shape bounds below.
var ErrTooComplex = errors.New("the URL is too complex")

// Shape bounds. A parse is one native call that a run's interrupt cannot
// stop, and the library's cost grows faster than the text in three
// places: serialising the path (Href, Pathname) joins the segments one
// string at a time, so it costs separators × path length; the userinfo is
// built one character at a time (its length squared); each '@' before the
// host re-encodes what came before it. At the 1 Mi characters the bindings
// let through, one such URL was seconds to minutes of CPU. The bounds are
// far above real URLs (servers refuse URLs past 8 KiB) and look only
// before the first '?' or '#', where the authority and path are,
// counting every separator there: they over-count, never under-count.
const (
	MaxPathWork     = 1 << 26 // '/' and '\\' count × length of that text
	MaxAts          = 1024    // '@' in that text
	MaxUserinfoSpan = 8 << 10 // bytes before the last '@' in it
)

// checkShape refuses text past the shape bounds.
func checkShape(s string) error {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	if n := strings.Count(s, "/") + strings.Count(s, `\`); n*len(s) > MaxPathWork {
		return fmt.Errorf("%w: %d path separators in %d bytes (separators × bytes may be at most %d)", ErrTooComplex, n, len(s), MaxPathWork)
	}
	if n := strings.Count(s, "@"); n > MaxAts {
		return fmt.Errorf("%w: %d '@' before the query, more than the %d allowed", ErrTooComplex, n, MaxAts)
	}
	if i := strings.LastIndexByte(s, '@'); i > MaxUserinfoSpan {
		return fmt.Errorf("%w: %d bytes before its last '@', more than the %d allowed", ErrTooComplex, i, MaxUserinfoSpan)
	}
	return nil
}

// parser has the library's defaults: the standard's percent-encode sets
// and special schemes, validation errors not fatal (as in Node).
var parser = wurl.NewParser()

// Parse parses input, resolved against base when it is relative (base may
// be nil). The error is ErrInvalid, or ErrTooComplex (wrapped, saying
// which bound) for text past the shape bounds.
func Parse(input string, base *URL) (*URL, error) {
	if err := checkShape(input); err != nil {
		return nil, err
	}
	var b *wurl.Url
	switch {
	case base != nil && base.query != nil:
		// Resolving may keep the base's query: give the library all of it.
		c, err := parser.Parse(base.Href())
		if err != nil {
			return nil, ErrInvalid
		}
		b = c
	case base != nil:
		// The library shares parts of the base with the result (the
		// path, the query); a copy keeps base and result independent.
		b = base.u.Clone()
	}
	u, err := parser.BasicParser(input, b, nil, wurl.NoState)
	if err != nil {
		return nil, ErrInvalid
	}
	return &URL{u: u}, nil
}

// Href is the whole serialised URL.
func (u *URL) Href() string {
	if u.query == nil {
		return u.u.Href(false)
	}
	noFrag := u.u.Href(true)
	return noFrag + "?" + *u.query + u.u.Href(false)[len(noFrag):]
}

// Scheme is the lower-case scheme without its colon ("https").
func (u *URL) Scheme() string { return u.u.Scheme() }

// Protocol is the scheme with its colon ("https:").
func (u *URL) Protocol() string { return u.u.Protocol() }

// Username is the percent-encoded user name.
func (u *URL) Username() string { return u.u.Username() }

// Password is the percent-encoded password.
func (u *URL) Password() string { return u.u.Password() }

// Host is the host with its port unless the port is the scheme's default.
func (u *URL) Host() string { return u.u.Host() }

// Hostname is the host without its port ("" for a URL without one).
func (u *URL) Hostname() string { return u.u.Hostname() }

// Port is the port, "" when it is absent or the scheme's default.
func (u *URL) Port() string { return u.u.Port() }

// Pathname is the path, or the opaque path of a URL such as mailto:x.
func (u *URL) Pathname() string { return u.u.Pathname() }

// Search is "?" and the query, or "" when the query is empty or absent.
func (u *URL) Search() string {
	if u.query != nil {
		if *u.query == "" {
			return ""
		}
		return "?" + *u.query
	}
	return u.u.Search()
}

// Hash is "#" and the fragment, or "" when the fragment is empty or absent.
func (u *URL) Hash() string { return u.u.Hash() }

// Origin is scheme://host[:port] for special schemes but file, else
// "null" (as Node gives for the URLs workflows meet; blob: URLs, whose
// origin is their inner URL's, are "null" here).
func (u *URL) Origin() string {
	switch u.u.Scheme() {
	case "http", "https", "ws", "wss", "ftp":
		return u.u.Protocol() + "//" + u.u.Host()
	}
	return "null"
}

// Query is the percent-encoded query without "?" ("" when it is empty or
// absent: URLSearchParams reads both as no pairs).
func (u *URL) Query() string {
	if u.query != nil {
		return *u.query
	}
	return u.u.Query()
}

// SetQuery replaces the query with an already-encoded one (what
// URLSearchParams writes back); an empty q removes it.
func (u *URL) SetQuery(q string) {
	u.u.SetSearch("")
	u.query = nil
	if q != "" {
		u.query = &q
	}
}

// The setters, as Node's URL setters: a value that does not fit is ignored.

func (u *URL) SetProtocol(v string) { u.u.SetProtocol(v) }
func (u *URL) SetUsername(v string) { u.u.SetUsername(v) }
func (u *URL) SetPassword(v string) { u.u.SetPassword(v) }
func (u *URL) SetHost(v string)     { u.u.SetHost(v) }
func (u *URL) SetHostname(v string) { u.u.SetHostname(v) }
func (u *URL) SetPort(v string)     { u.u.SetPort(v) }
func (u *URL) SetSearch(v string)   { u.query = nil; u.u.SetSearch(v) }
func (u *URL) SetHash(v string)     { u.u.SetHash(v) }

// SetPathname ignores a path past MaxPathWork, as it ignores other
// values that do not fit.
func (u *URL) SetPathname(v string) {
	if checkShape(strings.NewReplacer("?", "", "#", "", "@", "").Replace(v)) == nil {
		u.u.SetPathname(v)
	}
}

// EncodedForms are the spellings s takes in the parts of a URL the
// parser percent-encodes differently (query, special query, fragment,
// path, userinfo): what redaction must look for when a secret travels
// inside a URL.
func EncodedForms(s string) []string {
	sets := []*wurl.PercentEncodeSet{wurl.FragmentPercentEncodeSet, wurl.QueryPercentEncodeSet,
		wurl.SpecialQueryPercentEncodeSet, wurl.PathPercentEncodeSet, wurl.UserInfoPercentEncodeSet}
	out := make([]string, 0, len(sets))
	for _, set := range sets {
		out = append(out, parser.PercentEncodeString(s, set))
	}
	return out
}
