package workflow

import (
	"errors"
	"net/url"
	"path"
	"strings"
	"testing"
)

func TestCheckEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"production", true},
		{"staging.eu", true},
		{"Dev_2-b", true},
		{"a", true},
		{".hidden", true},
		{"...", true},
		{strings.Repeat("x", 64), true},
		{strings.Repeat("x", 65), true}, // synced before: 128 was deploy's bound
		{strings.Repeat("x", 128), true},
		{strings.Repeat("x", 129), false},
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"a b", false},
		{"a%2fb", false},
		{"a?b", false},
		{"a#b", false},
		{"é", false},
		{"a\x00", false},
		{"a\n", false},
		{"staging\u200b", false},
	} {
		err := CheckEnvironment(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("CheckEnvironment(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrEnvironmentName) {
			t.Errorf("CheckEnvironment(%q) = %v, does not wrap ErrEnvironmentName", tc.name, err)
		}
		if ValidEnvironment(tc.name) != tc.ok {
			t.Errorf("ValidEnvironment(%q) != %v", tc.name, tc.ok)
		}
	}
}

// FuzzCheckEnvironment: every accepted name is one URL path segment that
// needs no escaping and survives path cleaning unchanged.
func FuzzCheckEnvironment(f *testing.F) {
	for _, s := range []string{"production", "staging.eu", ".", "..", "a/b", "%2e", strings.Repeat("z", 129)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if CheckEnvironment(name) != nil {
			return
		}
		if len(name) == 0 || len(name) > MaxEnvironmentName {
			t.Fatalf("accepted %d bytes", len(name))
		}
		if url.PathEscape(name) != name {
			t.Fatalf("accepted %q, which a URL path escapes", name)
		}
		p := "/api/v1/environments/" + name + "/logs"
		if path.Clean(p) != p {
			t.Fatalf("accepted %q, which path cleaning changes", name)
		}
		u, err := url.Parse("http://h" + p)
		if err != nil || u.Path != p {
			t.Fatalf("accepted %q, which a URL does not keep as is", name)
		}
	})
}
