package wftest

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestMatch covers the expectation rules one by one.
func TestMatch(t *testing.T) {
	actual := map[string]any{
		"status": "succeeded",
		"accessToken": map[string]any{"customClaims": map[string]any{
			"plan": "pro", "n": float64(3), "ok": true, "list": []any{"a", map[string]any{"x": float64(1), "y": float64(2)}}}},
		"logs": []any{
			map[string]any{"level": "info", "message": "one"},
			map[string]any{"level": "warn", "message": "two"},
			map[string]any{"level": "info", "message": "three"},
		},
	}
	cases := []struct {
		name   string
		expect map[string]any
		want   []string
	}{
		{"empty expects success", map[string]any{}, nil},
		{"subset of an object", map[string]any{"accessToken": map[string]any{"customClaims": map[string]any{"plan": "pro"}}}, nil},
		{"numbers and booleans", map[string]any{"accessToken": map[string]any{"customClaims": map[string]any{"n": float64(3), "ok": true}}}, nil},
		{"array items are subsets", map[string]any{"accessToken": map[string]any{"customClaims": map[string]any{"list": []any{"a", map[string]any{"y": float64(2)}}}}}, nil},
		{"array length matters", map[string]any{"accessToken": map[string]any{"customClaims": map[string]any{"list": []any{"a"}}}},
			[]string{`accessToken.customClaims.list: want ["a"], got ["a",{"x":1,"y":2}]`}},
		{"wrong scalar", map[string]any{"accessToken": map[string]any{"customClaims": map[string]any{"n": "3"}}},
			[]string{`accessToken.customClaims.n: want "3", got 3`}},
		{"null means absent", map[string]any{"auth": nil, "accessToken": map[string]any{"customClaims": map[string]any{"gone": nil}}}, nil},
		{"null but present", map[string]any{"accessToken": nil}, []string{`accessToken: want absent or null, got {"customClaims":{"list":["a",{"x":1,"y":2}],"n":3,"ok":true,"plan":"pro"}}`}},
		{"missing key", map[string]any{"mfa": map[string]any{"enforcementPolicy": "required"}}, []string{`mfa: want {"enforcementPolicy":"required"}, got nothing (absent)`}},
		{"object vs scalar", map[string]any{"status": map[string]any{}}, []string{`status: want an object {}, got "succeeded"`}},
		{"logs in order", map[string]any{"logs": []any{map[string]any{"message": "one"}, map[string]any{"level": "info", "message": "three"}}}, nil},
		{"logs out of order", map[string]any{"logs": []any{map[string]any{"message": "three"}, map[string]any{"message": "one"}}},
			[]string{"logs[1]: want an entry matching {\"message\":\"one\"} (in this order), the logs are:\n    {\"level\":\"info\",\"message\":\"one\"}\n    {\"level\":\"warn\",\"message\":\"two\"}\n    {\"level\":\"info\",\"message\":\"three\"}"}},
		{"explicit failed status", map[string]any{"status": "failed"}, []string{`status: want "failed", got "succeeded"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Match(c.expect, actual)
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("match =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
	if got := Match(map[string]any{}, map[string]any{"status": "failed"}); len(got) != 1 || got[0] != `status: want "succeeded", got "failed"` {
		t.Errorf("implicit success: %q", got)
	}
}

// FuzzParseTestFile: any bytes give a test file or a located error, never a panic.
func FuzzParseTestFile(f *testing.F) {
	for _, s := range []string{
		`{"workflow": "a", "cases": [{"name": "n", "event": {}, "fetch": [{"url": "https://x.example/"}], "expect": {"status": "failed"}}]}`,
		`{"trigger": "user:pre_mfa", "cases": [{"name": "n", "eventFile": "e.json", "env": {"A": {"value": "b", "isSecret": true}}}]}`,
		`{"workflow": "a", "cases": [{"name": "n", "event": {}, "exepct": {}}]}`,
		`{"cases": [null]}`, `[]`, `{`, `{"workflow": 1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tf, err := Parse(data, "x.test.json", fstest.MapFS{"e.json": {Data: []byte(`{"context": {}}`)}}, ".")
		if err == nil && (tf == nil || len(tf.Cases) == 0) {
			t.Fatalf("no error and no cases for %q", data)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "x.test.json:") {
			t.Fatalf("error is not located: %v", err)
		}
	})
}
