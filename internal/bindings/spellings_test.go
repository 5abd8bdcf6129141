package bindings

import (
	"strings"
	"testing"
)

// The encodings, against what the runtime's own functions print (values
// recorded from goja and Node).
func TestEncodingForms(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"encodeURIComponent", percentEncode("a b/c?é!", uriComponentKeep), "a%20b%2Fc%3F%C3%A9!"},
		{"encodeURI", percentEncode("a b/c?é!", uriKeep), "a%20b/c?%C3%A9!"},
		{"escape", jsEscapeFn("a b/é€+"), "a%20b/%E9%u20AC+"},
		{"hex", utf16Hex("aé€", 2), "61e920ac"},
		{"hex4", utf16Hex("aé", 4), "006100e9"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestRedactSpellings(t *testing.T) {
	const secret = "sk_live_Secret/Value+1"
	r, _ := newRedactor(&Config{Env: map[string]EnvVar{"K": {Value: secret, IsSecret: true}}})
	for _, text := range []string{
		secret, strings.ToUpper(secret), "k=" + percentEncode(secret, uriComponentKeep) + "&x",
		strings.ToLower(percentEncode(secret, uriComponentKeep)), jsEscapeFn(secret),
		"0x" + utf16Hex(secret, 2), strings.ToUpper(utf16Hex(secret, 2)), utf16Hex(secret, 4),
		// base64 of the secret inside longer texts, at each offset
		"c2tfbGl2ZV9TZWNyZXQvVmFsdWUrMQ==", "YXNrX2xpdmVfU2VjcmV0L1ZhbHVlKzE=", "YWJza19saXZlX1NlY3JldC9WYWx1ZSsx",
	} {
		got := r.Replace(text)
		if !strings.Contains(got, RedactMark) || len(got) > len(text)/2+8 {
			t.Errorf("Replace(%q) = %q", text, got)
		}
	}
	// Around a secret, the text is kept exactly, its case too.
	if got := r.Replace("Before " + strings.ToUpper(secret) + " After"); got != "Before *** After" {
		t.Errorf("got %q", got)
	}
	if got := r.Replace("Nothing Secret Here"); got != "Nothing Secret Here" {
		t.Errorf("got %q", got)
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("sk_live_abc", "log sk_live_ABC and %73k_live_abc")
	f.Add("pässwörd", "P%C3%A4SSW%C3%B6RD")
	f.Fuzz(func(t *testing.T, secret, text string) {
		if len(secret) < MinRedactLen || strings.ContainsAny(secret, "\x00\x01") || strings.ContainsAny(text, "\x00\x01") {
			return
		}
		r, forms := newRedactor(&Config{Redact: []string{secret}})
		got := r.Replace(text)
		if strings.Contains(foldASCII(got), foldASCII(secret)) && !strings.Contains(foldASCII(secret), foldASCII(RedactMark)) {
			t.Fatalf("Replace(%q) = %q still holds %q", text, got, secret)
		}
		found := false
		for _, f := range forms {
			found = found || strings.Contains(foldASCII(text), f)
		}
		if !found && got != text {
			t.Fatalf("Replace(%q) = %q with no secret in it", text, got)
		}
	})
}

// BenchmarkRedactor: building the redactor for a run with two secrets
// (once per run that has any) and redacting one ordinary log line.
func BenchmarkRedactor(b *testing.B) {
	cfg := &Config{Env: map[string]EnvVar{"K": {Value: "sk_live_Secret/Value+1", IsSecret: true}}, Redact: []string{"Pa ss/wörd?&="}}
	line := strings.Repeat("user kp_123 signed in from 203.0.113.7 with claims {\"a\":1} ", 4)
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			newRedactor(cfg)
		}
	})
	r, _ := newRedactor(cfg)
	b.Run("line", func(b *testing.B) {
		for b.Loop() {
			r.Replace(line)
		}
	})
}

// A short secret's spellings do not eat ordinary text (a JWT, a hash).
func TestShortSecretLeavesOtherTextAlone(t *testing.T) {
	r, _ := newRedactor(&Config{Redact: []string{"abc", "Zq9"}})
	for _, text := range []string{
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJrcF8xMjM0NTY3ODkwIiwicm9sZSI6Im1lbWJlciJ9.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
		"sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	} {
		if got := r.Replace(text); got != text {
			t.Errorf("Replace(%q) = %q", text, got)
		}
	}
	if got := r.Replace("x ABC y"); got != "x *** y" {
		t.Errorf("got %q", got)
	}
}

// With nothing to redact, every text comes back unchanged, also the mask's
// own marker bytes, and no per-invocation replacer is built.
func TestRedactorWithoutSecrets(t *testing.T) {
	r, forms := newRedactor(&Config{Env: map[string]EnvVar{"PLAIN": {Value: "not-a-secret-value"}}})
	if len(forms) != 0 || r != noSecrets {
		t.Fatalf("forms %q, shared redactor %v", forms, r == noSecrets)
	}
	for _, s := range []string{"", "plain text", "\x00\x01\x00", "not-a-secret-value", strings.Repeat("é", 100)} {
		if got := r.Replace(s); got != s {
			t.Errorf("Replace(%q) = %q", s, got)
		}
	}
}
