package whatwgurl

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nodeCase is one input and what Node's URL made of it, recorded by
// testdata/record.mjs into testdata/node.json.
type nodeCase struct {
	Input    string  `json:"input"`
	Base     *string `json:"base"`
	Error    string  `json:"error"`
	Href     string  `json:"href"`
	Protocol string  `json:"protocol"`
	Username string  `json:"username"`
	Password string  `json:"password"`
	Host     string  `json:"host"`
	Hostname string  `json:"hostname"`
	Port     string  `json:"port"`
	Pathname string  `json:"pathname"`
	Search   string  `json:"search"`
	Hash     string  `json:"hash"`
	Origin   string  `json:"origin"`
}

// TestMatchesNode parses every recorded input and compares each part with
// what Node gave (file: forms, IPv4 shorthand, percent-encoded hosts,
// ports, userinfo, opaque paths…).
func TestMatchesNode(t *testing.T) {
	rec := loadRecord(t)
	var err error
	for _, c := range rec.Cases {
		name := c.Input
		var base *URL
		if c.Base != nil {
			name += " against " + *c.Base
			if base, err = Parse(*c.Base, nil); err != nil {
				t.Errorf("%s: base does not parse: %v", name, err)
				continue
			}
		}
		u, err := Parse(c.Input, base)
		if c.Error != "" {
			if err == nil {
				t.Errorf("%q: parsed to %q, Node %s threw %s", name, u.Href(), rec.Node, c.Error)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v, Node %s gave %q", name, err, rec.Node, c.Href)
			continue
		}
		got := nodeCase{Href: u.Href(), Protocol: u.Protocol(), Username: u.Username(), Password: u.Password(),
			Host: u.Host(), Hostname: u.Hostname(), Port: u.Port(), Pathname: u.Pathname(), Search: u.Search(),
			Hash: u.Hash(), Origin: u.Origin()}
		want := c
		want.Input, want.Base = "", nil
		if got != want {
			t.Errorf("%q:\n got %+v\nwant %+v", name, got, want)
		}
	}
}

type record struct {
	Node  string     `json:"node"`
	Cases []nodeCase `json:"cases"`
}

// loadRecord reads testdata/node.json.
func loadRecord(t testing.TB) record {
	data, err := os.ReadFile(filepath.Join("testdata", "node.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Cases) < 100 {
		t.Fatalf("only %d recorded cases", len(rec.Cases))
	}
	return rec
}

// FuzzParse: any input parses or fails cleanly, and what parses
// serialises to an href that parses again to itself.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"https://a.com/x?y#z", "http://[::1]:80/", "http://0x7f.1", "mailto:a@b", "foo://h/p",
		"../x", "//h", "file:///C:/x", "http://%31%32%37.0.0.1/", "http:\\\\a\\b"} {
		f.Add(s, "")
		f.Add(s, "https://base.example/a/b")
	}
	f.Fuzz(func(t *testing.T, input, base string) {
		var b *URL
		if base != "" {
			var err error
			if b, err = Parse(base, nil); err != nil {
				return
			}
		}
		u, err := Parse(input, b)
		if err != nil {
			return
		}
		href := u.Href()
		again, err := Parse(href, nil)
		if err != nil {
			t.Fatalf("href %q of %q does not parse again: %v", href, input, err)
		}
		if again.Href() != href {
			t.Fatalf("href not stable: %q -> %q", href, again.Href())
		}
	})
}

// FuzzForm: parse/serialise round trips keep the pairs.
func FuzzForm(f *testing.F) {
	f.Add("a=1&b=%20x+y&c&=e&%zz=%")
	f.Add("é=%C3%A9&&x==y")
	f.Fuzz(func(t *testing.T, s string) {
		pairs := ParseForm(s)
		enc := SerializeForm(pairs)
		back := ParseForm(enc)
		if len(back) != len(pairs) {
			t.Fatalf("%q -> %q: %d pairs, want %d", s, enc, len(back), len(pairs))
		}
		for i := range back {
			if back[i] != pairs[i] {
				t.Fatalf("%q -> %q: pair %d = %q, want %q", s, enc, i, back[i], pairs[i])
			}
		}
	})
}

// BenchmarkParse parses the recorded inputs (the URLs workflows meet)
// and serialises each.
func BenchmarkParse(b *testing.B) {
	cases := loadRecord(b).Cases
	b.ResetTimer()
	for b.Loop() {
		for _, c := range cases {
			var base *URL
			if c.Base != nil {
				base, _ = Parse(*c.Base, nil)
			}
			if u, err := Parse(c.Input, base); err == nil {
				_ = u.Href()
			}
		}
	}
}

// TestShapeBounds: text past each bound is refused with ErrTooComplex
// before the library sees it; text at the bound parses; the query and
// fragment do not count.
func TestShapeBounds(t *testing.T) {
	r := strings.Repeat
	side := 1 << 13 // MaxPathWork = side*side
	// "https://h" and k-2 slashes: k separators in k+7 bytes, at most
	// MaxPathWork for k up to 8188.
	cases := []struct {
		name, input string
		refused     bool
	}{
		{"separators × length at the bound", "https://h" + r("/", 8186), false},
		{"one separator past it", "https://h" + r("/", 8187), true},
		{"few separators in a long path", "https://h/" + r("a", 1<<20) + "/b", false},
		{"a long path past it", "https://h/" + r("a", 1<<20) + r("/", 64), true},
		{"backslashes count", `https://h` + r(`\`, side), true},
		{"separators in the query do not count", "https://h/?" + r("/", 1<<20), false},
		{"separators in the fragment do not count", "https://h/#" + r("/", 1<<20), false},
		{"'@' at the bound", "https://" + r("@", MaxAts) + "h/", false},
		{"'@' past it", "https://" + r("@", MaxAts+1) + "h/", true},
		{"userinfo at the bound", "https://" + r("u", MaxUserinfoSpan-len("https://")) + "@h/", false},
		{"userinfo past it", "https://" + r("u", MaxUserinfoSpan-len("https://")+1) + "@h/", true},
		{"'@' in the query does not count", "https://h/?" + r("a", 1<<20) + "@", false},
	}
	for _, c := range cases {
		u, err := Parse(c.input, nil)
		switch {
		case c.refused && !errors.Is(err, ErrTooComplex):
			t.Errorf("%s: err %v, want ErrTooComplex", c.name, err)
		case !c.refused && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case !c.refused && len(u.Href()) == 0:
			t.Errorf("%s: empty href", c.name)
		}
	}
	// A base past the bounds cannot be made, and the pathname setter
	// ignores a path past them.
	u, err := Parse("https://h/a", nil)
	if err != nil {
		t.Fatal(err)
	}
	u.SetPathname("/" + strings.Repeat("/", side))
	if u.Pathname() != "/a" {
		t.Errorf("pathname setter took a path past the bound: %.40q", u.Pathname())
	}
	u.SetPathname("/b/c")
	if u.Pathname() != "/b/c" {
		t.Errorf("pathname setter: %q, want /b/c", u.Pathname())
	}
}

// TestBaseNotShared: a URL resolved against a base shares nothing with
// it (the library would share the base's path and query).
func TestBaseNotShared(t *testing.T) {
	base, err := Parse("https://h/a/b?q=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := Parse("#f", base)
	if err != nil {
		t.Fatal(err)
	}
	u.SetPathname("/x")
	u.SetQuery("y=2")
	if got := base.Href(); got != "https://h/a/b?q=1" {
		t.Errorf("base changed to %q", got)
	}
	if got := u.Href(); got != "https://h/x?y=2#f" {
		t.Errorf("got %q", got)
	}
	// A written query is kept by what resolves against it, and replaced
	// by the search setter.
	if r, err := Parse("#g", u); err != nil || r.Href() != "https://h/x?y=2#g" || r.Search() != "?y=2" {
		t.Errorf("resolved against a written query: %v, %v", r.Href(), err)
	}
	u.SetSearch("z=3")
	if got := u.Href(); got != "https://h/x?z=3#f" || u.Query() != "z=3" {
		t.Errorf("after the search setter: %q (query %q)", got, u.Query())
	}
	u.SetQuery("")
	if got := u.Href(); got != "https://h/x#f" || u.Search() != "" {
		t.Errorf("after an empty written query: %q", got)
	}
}
