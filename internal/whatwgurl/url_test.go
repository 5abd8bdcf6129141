package whatwgurl

import (
	"encoding/json"
	"os"
	"path/filepath"
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
	data, err := os.ReadFile(filepath.Join("testdata", "node.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Node  string     `json:"node"`
		Cases []nodeCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Cases) < 100 {
		t.Fatalf("only %d recorded cases", len(rec.Cases))
	}
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
