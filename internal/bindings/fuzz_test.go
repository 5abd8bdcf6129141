package bindings

import (
	"testing"
)

// FuzzParseURL: any input parses or fails cleanly, and what parses
// serialises to an href that parses again to itself.
func FuzzParseURL(f *testing.F) {
	for _, tc := range urlCases {
		f.Add(tc.js, "")
	}
	for _, s := range []string{"https://a.com/x?y#z", "http://[::1]:80/", "http://0x7f.1", "mailto:a@b", "foo://h/p", "../x", "//h"} {
		f.Add(s, "https://base.example/a/b")
	}
	f.Fuzz(func(t *testing.T, input, base string) {
		var b *urlObject
		if base != "" {
			var err error
			if b, err = parseURL(base, nil); err != nil {
				return
			}
		}
		u, err := parseURL(input, b)
		if err != nil {
			return
		}
		href := u.href()
		again, err := parseURL(href, nil)
		if err != nil {
			t.Fatalf("href %q of %q does not parse again: %v", href, input, err)
		}
		if again.href() != href {
			t.Fatalf("href not stable: %q -> %q", href, again.href())
		}
	})
}

// FuzzSearchParams: parse/serialise round trips keep the pairs.
func FuzzSearchParams(f *testing.F) {
	f.Add("a=1&b=%20x+y&c&=e&%zz=%")
	f.Add("é=%C3%A9&&x==y")
	f.Fuzz(func(t *testing.T, s string) {
		sp := &searchParams{list: parseForm(s)}
		enc := sp.encode()
		back := parseForm(enc)
		if len(back) != len(sp.list) {
			t.Fatalf("%q -> %q: %d pairs, want %d", s, enc, len(back), len(sp.list))
		}
		for i := range back {
			if back[i] != sp.list[i] {
				t.Fatalf("%q -> %q: pair %d = %q, want %q", s, enc, i, back[i], sp.list[i])
			}
		}
	})
}

// FuzzParseJWT: outside tokens never panic the parser or the verifier.
func FuzzParseJWT(f *testing.F) {
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln")
	f.Add("a.b.c")
	f.Add("..")
	f.Fuzz(func(t *testing.T, tok string) {
		j, err := parseJWT(tok)
		if err != nil {
			return
		}
		_ = j.verify([]verifyKey{{pub: []byte("k")}})
	})
}
