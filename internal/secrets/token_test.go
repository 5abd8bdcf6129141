package secrets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestGenerateToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, err := GenerateToken()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tok, TokenPrefix) || len(tok) != len(TokenPrefix)+43 {
			t.Fatalf("unexpected token form %q", tok)
		}
		if seen[tok] {
			t.Fatal("duplicate token")
		}
		seen[tok] = true
	}
}

func TestCompareToken(t *testing.T) {
	tok, _ := GenerateToken()
	for _, tc := range []struct {
		presented, expected string
		want                bool
	}{
		{tok, tok, true},
		{tok + "x", tok, false},
		{tok[:len(tok)-1], tok, false},
		{"", tok, false},
		{"", "", false}, // an unset token authorises nothing
		{"anything", "", false},
		{strings.ToUpper(tok), tok, false},
	} {
		if got := CompareToken(tc.presented, tc.expected); got != tc.want {
			t.Errorf("CompareToken(%q, %q) = %v, want %v", tc.presented, tc.expected, got, tc.want)
		}
	}
}

func TestValueIsRedacted(t *testing.T) {
	v := Value("hunter2")
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "secret", v)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "secret", v)
	js, _ := json.Marshal(map[string]any{"v": v, "p": &v})
	for name, out := range map[string]string{
		//lint:ignore S1025 the point is what each verb prints
		"%s":   fmt.Sprintf("%s", v),
		"%v":   fmt.Sprintf("%v", v),
		"%+v":  fmt.Sprintf("%+v", struct{ S Value }{v}),
		"%#v":  fmt.Sprintf("%#v", v),
		"%q":   fmt.Sprintf("%q", v),
		"%x":   fmt.Sprintf("%x", v),
		"slog": logged.String(),
		"json": string(js),
	} {
		if strings.Contains(out, "hunter2") || strings.Contains(out, fmt.Sprintf("%x", "hunter2")) {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
	}
	if v.Reveal() != "hunter2" {
		t.Fatal("Reveal lost the value")
	}
}
