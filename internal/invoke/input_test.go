package invoke

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func TestCheckEvent(t *testing.T) {
	cases := []struct{ data, want string }{
		{`{"context": {}}`, ""},
		{"{\n  \"a\": 1,\n}", "3:1: invalid JSON"},
		{"{}\n\n  x", "3:3: invalid JSON: text after the end of the value"},
		{`[1]`, "1:1: the event must be a JSON object"},
		{`{} {}`, "1:4: invalid JSON: text after the end of the value"},
		{`{"a": `, "1:7: invalid JSON: unexpected end of input"},
		{``, "1:1: invalid JSON: unexpected end of input"},
	}
	for _, c := range cases {
		err := CheckEvent([]byte(c.data))
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)) {
			t.Errorf("CheckEvent(%q) = %v, want %q", c.data, err, c.want)
		}
	}
}

func TestParseEnv(t *testing.T) {
	env, err := ParseEnv([]byte(`{"A": {"value": "x", "isSecret": true}, "B": {"value": ""}}`))
	if err != nil || len(env) != 2 || !env["A"].IsSecret || env["A"].Value != "x" || env["B"].IsSecret {
		t.Fatalf("env = %+v, %v", env, err)
	}
	for data, want := range map[string]string{
		`null`:                                  "expected an object",
		`{"A": "x"}`:                            `variable "A": expected`,
		`{"A": {"value": 5}}`:                   `variable "A": expected`,
		`{"A": {"value": "s3cret", "x": true}}`: `variable "A": expected`,
		`{"A": {"isSecret": true}}`:             `variable "A": expected`,
		`[]`:                                    "1:2: the value must be an object, not a JSON array",
	} {
		_, err := ParseEnv([]byte(data))
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParseEnv(%s) = %v, want %q", data, err, want)
		}
	}
}

func TestDecodeKey(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	for _, s := range []string{
		base64.StdEncoding.EncodeToString(key), base64.RawStdEncoding.EncodeToString(key),
		base64.URLEncoding.EncodeToString(key), " " + base64.RawURLEncoding.EncodeToString(key) + "\n",
	} {
		if got, err := DecodeKey(s); err != nil || string(got) != string(key) {
			t.Errorf("DecodeKey(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := DecodeKey(base64.StdEncoding.EncodeToString(key[:16])); err == nil || !strings.Contains(err.Error(), "16 bytes") {
		t.Errorf("short key: %v", err)
	}
	if _, err := DecodeKey("not base64!"); err == nil || strings.Contains(err.Error(), "not base64!") {
		t.Errorf("bad key: %v (must not echo the key)", err)
	}
}

// FuzzCheckEvent: the runtime API checks every request body with
// CheckEvent: any bytes are accepted exactly when they are one JSON object,
// and a refusal is located, never a panic.
func FuzzCheckEvent(f *testing.F) {
	for _, s := range []string{`{"context": {"auth": {"password": "x"}}}`, `{} {}`, `[]`, `{"a": `, "\xff", `null`, ` {"a":1} `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := CheckEvent(data)
		var v any
		dec := json.NewDecoder(bytes.NewReader(data))
		okObject := dec.Decode(&v) == nil && !dec.More()
		if _, isMap := v.(map[string]any); err == nil && !(okObject && isMap) {
			t.Fatalf("accepted %q", data)
		}
		if err != nil && !locatedRe.MatchString(err.Error()) {
			t.Fatalf("error not located: %v", err)
		}
	})
}

var locatedRe = regexp.MustCompile(`^\d+:\d+: `)

// FuzzParseEnv: any bytes give variables or an error that does not echo a
// value; never a panic.
func FuzzParseEnv(f *testing.F) {
	for _, s := range []string{`{"A": {"value": "x", "isSecret": true}}`, `{"A": {"value": 1}}`, `null`, `[]`, `{"A": null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ParseEnv(data)
		if err == nil && env == nil {
			t.Fatalf("no error and no variables for %q", data)
		}
	})
}
