package workflow

import (
	"slices"
	"testing"
)

// passwordEvents are the seeds: events with and without password fields,
// escaped keys, case variants and broken JSON.
var passwordEvents = []string{
	`{"context": {"auth": {"password": "p1x"}}}`,
	`{"context": {"auth": {"pass\u0077ord": "esc4pe"}}}`,
	`{"context": {"auth": {"\u0070assword": "esc5pe", "firstPassword": "f3z"}}}`,
	`{"Context": {"AUTH": {"password": "caseless"}}}`,
	`{"context": {"auth": {"Password": "wrong-case-key"}}}`,
	`{"context": {"auth": {"origin": "authorization_request"}}, "request": {"ip": "203.0.113.7"}}`,
	`{"context": {"auth": {"pass\/word": "slash"}}}`,
	`{"context": {"auth": {"password": "a"}, "auth": {"secondPassword": "dup"}}}`,
	`{"context":`,
	`[]`,
}

func TestPasswordsEscapedKey(t *testing.T) {
	if got := Passwords([]byte(passwordEvents[1])); !slices.Equal(got, []string{"esc4pe"}) {
		t.Errorf("an escaped key: %q", got)
	}
}

// FuzzPasswordsShortcut: skipping the decode never changes the answer.
func FuzzPasswordsShortcut(f *testing.F) {
	for _, e := range passwordEvents {
		f.Add([]byte(e))
	}
	f.Fuzz(func(t *testing.T, event []byte) {
		if got, want := Passwords(event), decodePasswords(event); !slices.Equal(got, want) {
			t.Fatalf("Passwords(%q) = %q, decoding gives %q", event, got, want)
		}
	})
}
