package bindings

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/workflow"
)

// Claims are measured in Go (jsonWalker); each case must give what
// JSON.parse(JSON.stringify(v)) gives in the realm, or the same error.
func TestClaimValueMatchesJSONStringify(t *testing.T) {
	values := []string{
		`1`, `-0`, `1.5e300`, `NaN`, `-Infinity`, `"s"`, `"q\"\\\n\u0001é😀"`, `true`, `null`,
		`[1, "a", null, undefined, () => 1, Symbol("x")]`,
		`{a: 1, b: undefined, c: () => 1, d: Symbol("s"), [Symbol("k")]: 1, e: {f: [{}]}}`,
		`{2: "two", 1: "one", b: 1, a: 2}`,
		`new Date(0)`, `{when: new Date(86400000)}`,
		`new Number(3)`, `new String("boxed")`, `new Boolean(false)`, `[new Boolean(true), Object(1n) === 0]`,
		`{toJSON(k) { return {key: k, v: 1} }}`, `{x: {toJSON(k) { return "key:" + k }}}`, `[{toJSON(k) { return k }}]`,
		`Object.create({inherited: 1}, {own: {value: 2, enumerable: true}, hidden: {value: 3}})`,
		`{get g() { return [1, 2] }}`, `new Array(3)`, `Object.assign([1, 2], {extra: 1})`,
		`new Map([[1, 2]])`, `new Set([1])`, `/re/g`, `new Error("e")`, `new Uint8Array([1, 2])`,
		`new URL("https://a.com/x")`, `new URLSearchParams("a=1")`, `{u: undefined}`, `[[[]]]`,
		`JSON.rawJSON ? JSON.rawJSON("12") : 12`, `Object.freeze({f: 1})`,
	}
	errs := []string{`10n`, `{b: 10n}`, `(() => { const o = {}; o.self = o; return o })()`,
		`(() => { const a = []; a.push({a}); return a })()`, `{toJSON() { throw new RangeError("boom") }}`}
	for _, js := range values {
		t.Run(js, func(t *testing.T) {
			s := newSandbox(t, &Config{Settings: declare(workflow.UserTokenGeneration, workflow.BindAccessToken)})
			want := s.mustRun(t, `(() => { const j = JSON.stringify((`+js+`)); return j === undefined ? "undefined" : j })()`).(string)
			s.mustRun(t, `kinde.accessToken.setCustomClaim("v", (`+js+`)); 0`)
			got, ok := s.res.AccessToken.CustomClaims["v"]
			if want == "undefined" {
				if ok {
					t.Fatalf("claim = %#v; JSON.stringify gives undefined", got)
				}
				return
			}
			var wantV any
			if err := json.Unmarshal([]byte(want), &wantV); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, wantV) {
				t.Fatalf("claim = %#v; JSON.stringify gives %s", got, want)
			}
		})
	}
	for _, js := range errs {
		t.Run(js, func(t *testing.T) {
			s := newSandbox(t, &Config{Settings: declare(workflow.UserTokenGeneration, workflow.BindAccessToken)})
			_, want := s.run(`JSON.stringify((` + js + `))`)
			_, got := s.run(`kinde.accessToken.setCustomClaim("v", (` + js + `))`)
			if want == "" || got == "" || strings.SplitN(want, ":", 2)[0] != strings.SplitN(got, ":", 2)[0] {
				t.Fatalf("error %q; JSON.stringify throws %q", got, want)
			}
		})
	}
}

// Huge and sparse values stop at the size cap (or, nested, at the depth
// bound) instead of being walked.
func TestClaimValueWalkStopsAtCap(t *testing.T) {
	for _, js := range []string{
		`new Array(2 ** 32 - 1)`,
		`new Array(1e6).fill("x".repeat(100))`,
		`{get a() { return "x".repeat(70000) }}`,
	} {
		s := newSandbox(t, &Config{Settings: declare(workflow.UserTokenGeneration, workflow.BindAccessToken)})
		_, err := s.run(`kinde.accessToken.setCustomClaim("big", ` + js + `)`)
		if !strings.Contains(err, "larger than 65536 bytes") && !strings.Contains(err, "nests deeper than") {
			t.Errorf("%s: error = %q", js, err)
		}
	}
	// Deep values stop at the nesting bound, within the size cap or not
	// (12,000 levels of [] is 24 KB: a JSON decoder refuses it).
	for _, js := range []string{
		`(() => { let o = {}; for (let i = 0; i < 50000; i++) o = {o}; return o })()`,
		`(() => { let v = 1; for (let i = 0; i < 12000; i++) v = [v]; return v })()`,
	} {
		s := newSandbox(t, &Config{Settings: declare(workflow.UserTokenGeneration, workflow.BindAccessToken)})
		_, err := s.run(`kinde.accessToken.setCustomClaim("deep", ` + js + `)`)
		if !strings.Contains(err, "nests deeper than 512 levels") {
			t.Errorf("%s: error = %q", js, err)
		}
	}
}
