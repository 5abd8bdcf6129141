package npm

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// version is a semantic version; pre is the prerelease part ("" for a release).
type version struct {
	major, minor, patch int
	pre                 string
}

func parseVersion(s string) (version, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	s, _, _ = strings.Cut(s, "+")
	core, pre, _ := strings.Cut(s, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return version{}, fmt.Errorf("invalid version %q", s)
	}
	var n [3]int
	for i, p := range parts {
		v, ok := number(p)
		if !ok {
			return version{}, fmt.Errorf("invalid version %q", s)
		}
		n[i] = v
	}
	return version{n[0], n[1], n[2], pre}, nil
}

func (v version) compare(o version) int {
	if c := cmp.Compare(v.major, o.major); c != 0 {
		return c
	}
	if c := cmp.Compare(v.minor, o.minor); c != 0 {
		return c
	}
	if c := cmp.Compare(v.patch, o.patch); c != 0 {
		return c
	}
	switch {
	case v.pre == o.pre:
		return 0
	case v.pre == "":
		return 1
	case o.pre == "":
		return -1
	}
	return comparePre(v.pre, o.pre)
}

// comparePre orders prerelease parts as semver does: dot-separated
// identifiers left to right, numeric ones by value and below alphanumeric
// ones, and a prefix before anything longer (rc.2 < rc.10, beta < beta.1).
func comparePre(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, y := as[i], bs[i]
		nx, xnum := numeric(x)
		ny, ynum := numeric(y)
		var c int
		switch {
		case xnum && ynum:
			c = cmp.Or(cmp.Compare(len(nx), len(ny)), strings.Compare(nx, ny))
		case xnum:
			c = -1
		case ynum:
			c = 1
		default:
			c = strings.Compare(x, y)
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(len(as), len(bs))
}

// numeric reports whether s is all digits, and returns it without leading
// zeros so that digit strings of any length compare by length then text.
func numeric(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	t := strings.TrimLeft(s, "0")
	if t == "" {
		t = "0"
	}
	return t, true
}

// number parses one numeric part of a version: digits, no leading zero.
func number(p string) (int, bool) {
	if p == "" || len(p) > 1 && p[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.Atoi(p)
	return v, err == nil
}

// comparator is one "op version" condition.
type comparator struct {
	op string // "=", ">", ">=", "<", "<="
	v  version
}

func (c comparator) matches(v version) bool {
	d := v.compare(c.v)
	switch c.op {
	case ">":
		return d > 0
	case ">=":
		return d >= 0
	case "<":
		return d < 0
	case "<=":
		return d <= 0
	}
	return d == 0
}

// versionRange is npm's range syntax: sets joined by "||", each a list of
// comparators that must all hold. Supported: exact, =, >, >=, <, <=, ^, ~,
// x-ranges (1, 1.2, 1.x, *), hyphen ranges (1.2.3 - 2). Prereleases only
// match when the range names one explicitly, as npm does.
type versionRange [][]comparator

func (r versionRange) matches(v version) bool {
	for _, set := range r {
		ok := true
		for _, c := range set {
			if !c.matches(v) {
				ok = false
				break
			}
		}
		if ok && (v.pre == "" || setNamesPre(set, v)) {
			return true
		}
	}
	return false
}

func setNamesPre(set []comparator, v version) bool {
	for _, c := range set {
		if c.v.pre != "" && c.v.major == v.major && c.v.minor == v.minor && c.v.patch == v.patch {
			return true
		}
	}
	return false
}

func parseRange(s string) (versionRange, error) {
	var r versionRange
	for _, alt := range strings.Split(s, "||") {
		f := strings.Fields(alt)
		var set []comparator
		if len(f) == 3 && f[1] == "-" {
			lo, _, err := partial(f[0])
			if err != nil {
				return nil, err
			}
			hi, n, err := partial(f[2])
			if err != nil {
				return nil, err
			}
			set = append(set, comparator{">=", lo}, upper(hi, n, "<="))
			r = append(r, set)
			continue
		}
		for i := 0; i < len(f); i++ {
			tok := f[i]
			op := ""
			for _, o := range []string{">=", "<=", ">", "<", "=", "^", "~>", "~"} {
				if strings.HasPrefix(tok, o) {
					op, tok = o, tok[len(o):]
					break
				}
			}
			if op == "~>" {
				op = "~" // npm reads ~> as ~
			}
			if tok == "" && op != "" {
				if i+1 >= len(f) {
					return nil, fmt.Errorf("invalid range %q: %s needs a version", s, op)
				}
				i++ // "> 1.2.3"
				tok = f[i]
			}
			cs, err := comparators(op, tok)
			if err != nil {
				return nil, err
			}
			set = append(set, cs...)
		}
		r = append(r, set)
	}
	return r, nil
}

// partial parses a version that may omit parts or use x/*; n is how many
// numeric parts it had.
func partial(s string) (version, int, error) {
	s = strings.TrimPrefix(s, "v")
	if s == "" || s == "*" || s == "x" || s == "X" {
		return version{}, 0, nil
	}
	s, _, _ = strings.Cut(s, "+")
	core, pre, _ := strings.Cut(s, "-")
	parts := strings.Split(core, ".")
	if len(parts) > 3 {
		return version{}, 0, fmt.Errorf("invalid range %q", s)
	}
	var n [3]int
	count := 0
	for i, p := range parts {
		if p == "x" || p == "X" || p == "*" {
			break
		}
		v, ok := number(p)
		if !ok {
			return version{}, 0, fmt.Errorf("invalid range %q", s)
		}
		n[i] = v
		count++
	}
	if count < 3 {
		pre = ""
	}
	return version{n[0], n[1], n[2], pre}, count, nil
}

// upper is the bound for the partial version v with n parts under op
// ("<=" keeps 1.2 meaning <1.3.0).
func upper(v version, n int, op string) comparator {
	switch n {
	case 0:
		return comparator{">=", version{}}
	case 1:
		return comparator{"<", version{major: v.major + 1, pre: "0"}}
	case 2:
		return comparator{"<", version{major: v.major, minor: v.minor + 1, pre: "0"}}
	}
	return comparator{op, v}
}

func comparators(op, tok string) ([]comparator, error) {
	v, n, err := partial(tok)
	if err != nil {
		return nil, err
	}
	any := comparator{">=", version{}}
	switch op {
	case "", "=":
		if n == 0 {
			return []comparator{any}, nil
		}
		if n == 3 {
			return []comparator{{"=", v}}, nil
		}
		return []comparator{{">=", v}, upper(v, n, "<")}, nil
	case "^":
		hi := version{major: v.major + 1, pre: "0"}
		switch {
		case n == 0:
			return []comparator{any}, nil
		case v.major == 0 && n >= 2 && (v.minor > 0 || n == 2):
			hi = version{minor: v.minor + 1, pre: "0"}
		case v.major == 0 && v.minor == 0 && n == 3:
			hi = version{patch: v.patch + 1, pre: "0"}
		}
		return []comparator{{">=", v}, {"<", hi}}, nil
	case "~":
		if n <= 1 {
			return []comparator{{">=", v}, upper(v, max(n, 1), "<")}, nil
		}
		return []comparator{{">=", v}, {"<", version{major: v.major, minor: v.minor + 1, pre: "0"}}}, nil
	case ">", "<=":
		if n < 3 && n > 0 {
			// >1.2 means >=1.3.0; <=1.2 means <1.3.0
			b := upper(v, n, "<")
			if op == ">" {
				b.v.pre = "" // >1.2 is >=1.3.0: 1.3.0-rc.1 is not in it
				return []comparator{{">=", b.v}}, nil
			}
			return []comparator{b}, nil
		}
		return []comparator{{op, v}}, nil
	}
	return []comparator{{op, v}}, nil
}
