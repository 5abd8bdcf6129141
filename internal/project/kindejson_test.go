package project

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/flowgate/flowgate/internal/bundle"
)

func TestParseKindeJSON(t *testing.T) {
	cases := []struct {
		in      string
		rootDir string // "" when the config is unusable
		want    []string
	}{
		{`{"rootDir": "kindeSrc", "version": "2024-12-09"}`, "kindeSrc", []string{}},
		{`{"version": "2024-12-09"}`, "kindeSrc", []string{}},
		{`{"version": "2024-12-09", "rootDir": ""}`, "kindeSrc", []string{}},
		{`{"version": "2024-12-09", "rootDir": "./a/../b/"}`, "b", []string{}},
		{`{"version": "2024-12-09", "rootDir": "."}`, ".", []string{}},
		{`{"version": "2024-12-09", "rootDir": "/etc"}`, "", []string{"error invalid-kinde-json kinde.json:1:38"}},
		{`{"version": "2024-12-09", "rootDir": "C:\\x"}`, "", []string{"error invalid-kinde-json kinde.json:1:38"}},
		{`{"version": "2024-12-09", "rootDir": "a/../../b"}`, "", []string{"error invalid-kinde-json kinde.json:1:38"}},
		{`{"version": "2024-12-09", "rootDir": 5}`, "", []string{"error invalid-kinde-json kinde.json:1:38"}},
		{"{\n  \"version\": 20241209\n}", "kindeSrc", []string{"error invalid-kinde-json kinde.json:2:14"}},
		{`{"version": "  "}`, "kindeSrc", []string{"error invalid-kinde-json kinde.json:1:13"}},
		{`{"version": "2024-12-09", "integrations": []}`, "kindeSrc", []string{"error invalid-kinde-json kinde.json:1:43"}},
		{`[]`, "", []string{"error invalid-kinde-json kinde.json:1:1"}},
		{`  "kindeSrc"`, "", []string{"error invalid-kinde-json kinde.json:1:3"}},
		{``, "", []string{"error invalid-kinde-json kinde.json:1:1"}},
		{`{"version": "x"`, "", []string{"error invalid-kinde-json kinde.json:1:15"}},
		{`{"version": "x"} {}`, "", []string{"error invalid-kinde-json kinde.json:1:18"}},
		{"{\n\t\"rootDir\": \"é\",\n\t\"version\" \"x\"}", "", []string{"error invalid-kinde-json kinde.json:3:12"}},
	}
	for _, c := range cases {
		cfg, ds := ParseKindeJSON([]byte(c.in))
		if got := brief(ds); !slices.Equal(got, c.want) {
			t.Errorf("ParseKindeJSON(%s) = %v, want %v (%s)", c.in, got, c.want, messages(ds))
		}
		got := ""
		if cfg != nil {
			got = cfg.RootDir
		}
		if got != c.rootDir {
			t.Errorf("ParseKindeJSON(%s).RootDir = %q, want %q", c.in, got, c.rootDir)
		}
	}
}

func FuzzParseKindeJSON(f *testing.F) {
	for _, s := range []string{
		`{"rootDir": "kindeSrc", "version": "2024-12-09", "integrations": {"npm": {"enabled": true}}}`,
		`{"rootDir": "../x"}`, `{"a": [1, {"b": null}], "version": ""}`, `{`, `{"rootDir": "kindeSrc" // c` + "\n}", "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, ds := ParseKindeJSON(data)
		for _, d := range ds {
			if d.Line < 1 || d.Column < 1 || d.File != KindeJSON || d.Message == "" {
				t.Fatalf("bad diagnostic %+v", d)
			}
		}
		if cfg == nil {
			if len(ds) == 0 {
				t.Fatal("no config and no diagnostic")
			}
			return
		}
		if r := cfg.RootDir; r == "" || path.IsAbs(r) || r == ".." || strings.HasPrefix(r, "../") || strings.Contains(r, `\`) {
			t.Fatalf("rootDir %q escapes", r)
		}
	})
}

// FuzzSettings feeds JavaScript to the settings reader as if it were a
// bundle: it must never panic or hang, and always locate what it reports.
func FuzzSettings(f *testing.F) {
	for _, s := range []string{
		`module.exports = {workflowSettings: {id: "a", trigger: "user:pre_mfa", bindings: {"kinde.env": {}}}, default: async () => {}}`,
		`exports.workflowSettings = {get id() { throw new Error("x") }}`,
		`module.exports = new Proxy({}, {get() { throw 1 }})`,
		`while (true) {}`, `function f() { f() } f()`, `require("fs")`, `throw {toString() { throw 2 }}`,
		`exports.workflowSettings = {trigger: undefined, bindings: 5}; exports.default = {handle: 1}`,
		`kinde.env.get("x")`, `(`, `module.exports = null`, `exports.workflowSettings = Symbol()`,
		`exports.workflowSettings = {id: {toString() { throw 3 }}, trigger: {}, bindings: {"kinde.x": 1}, failurePolicy: {action: 7}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if !utf8.ValidString(src) {
			return
		}
		out := &bundle.Output{Code: []byte(src)}
		res := readSettings(context.Background(), newInspector(100*time.Millisecond), "w.ts", out, []byte(src))
		for _, d := range res.ds {
			if d.Line < 1 || d.Column < 1 || d.File == "" || d.Message == "" || d.Rule == "" {
				t.Fatalf("bad diagnostic %+v", d)
			}
		}
	})
}

func FuzzLex(f *testing.F) {
	for _, s := range []string{"kinde.env.get(`a${b}c${`d${e}`}`) /re[/]/g; 'x\\", "import {a as b, type C} from \"@kinde/infrastructure\"; b()", "}}}`${"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, u := range bindingUses([]byte(src)) {
			if u.off < 0 || u.off > len(src) {
				t.Fatalf("offset %d out of range", u.off)
			}
		}
	})
}

func TestBindingUses(t *testing.T) {
	src := `import { denyAccess as deny, type WorkflowSettings, fetch } from "@kinde/infrastructure";
import * as infra from "@kinde/infrastructure";
import { fetch as other } from "./mine";
// kinde.auth in a comment
const s = "kinde.widget", t = ` + "`kinde.mfa ${kinde.plan} ${`${kinde.env}`}`" + `;
const r = /kinde.idToken/g;
foo.kinde.accessToken;
kinde?.m2mToken;
kinde.cache.jwtToken();
kinde.unknownThing; kinde.cache ? 1 : 2; kinde.cache?.jwtToken();
deny("x"); infra.secureFetch("u", {}); other();
`
	var got []string
	for _, u := range bindingUses([]byte(src)) {
		line, col := position([]byte(src), u.off)
		got = append(got, fmt.Sprintf("%s(%s)@%d:%d", u.binding, u.via, line, col))
	}
	want := []string{
		"kinde.plan()@5:44", "kinde.env()@5:61", "kinde.m2mToken()@8:1",
		// Issue 18.3: kinde.cache.x needs kinde.fetch; a test of kinde.cache does not throw.
		"kinde.fetch(kinde.cache)@9:1",
		"kinde.auth(denyAccess)@11:1", "kinde.secureFetch(secureFetch)@11:12",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("uses:\n%v\nwant\n%v", got, want)
	}
}

// The behaviour diff policy: read when it is exactly what the docs say,
// refused whole (an error at the "flowgate" key) otherwise.
func TestDiffPolicy(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		name, flowgate string
		want           *DiffPolicy
		wantErr        bool
	}{
		{name: "absent", flowgate: ""},
		{name: "no behaviourDiff", flowgate: `{}`},
		{name: "other keys are for later", flowgate: `{"somethingElse": true}`},
		{name: "five percent", flowgate: `{"behaviourDiff": {"maxChangedPercent": 5}}`, want: &DiffPolicy{MaxChangedPercent: f(5)}},
		{name: "decisions", flowgate: `{"behaviourDiff": {"maxDecisionsChangedPercent": 1}}`, want: &DiffPolicy{MaxDecisionsChangedPercent: f(1)}},
		{name: "both", flowgate: `{"behaviourDiff": {"maxDecisionsChangedPercent": 0, "maxChangedPercent": 2.5}}`, want: &DiffPolicy{MaxChangedPercent: f(2.5), MaxDecisionsChangedPercent: f(0)}},
		{name: "zero fails on any change", flowgate: `{"behaviourDiff": {"maxChangedPercent": 0}}`, want: &DiffPolicy{MaxChangedPercent: f(0)}},
		{name: "hundred", flowgate: `{"behaviourDiff": {"maxChangedPercent": 100}}`, want: &DiffPolicy{MaxChangedPercent: f(100)}},
		{name: "negative", flowgate: `{"behaviourDiff": {"maxChangedPercent": -1}}`, wantErr: true},
		{name: "decisions over a hundred", flowgate: `{"behaviourDiff": {"maxChangedPercent": 5, "maxDecisionsChangedPercent": 100.5}}`, wantErr: true},
		{name: "huge", flowgate: `{"behaviourDiff": {"maxChangedPercent": 1e400}}`, wantErr: true},
		{name: "a string", flowgate: `{"behaviourDiff": {"maxChangedPercent": "5"}}`, wantErr: true},
		{name: "a percent string", flowgate: `{"behaviourDiff": {"maxChangedPercent": "5%"}}`, wantErr: true},
		{name: "null limit", flowgate: `{"behaviourDiff": {"maxChangedPercent": null}}`, wantErr: true},
		{name: "no limit", flowgate: `{"behaviourDiff": {}}`, wantErr: true},
		{name: "misspelt key", flowgate: `{"behaviourDiff": {"maxChangedPercnt": 5}}`, wantErr: true},
		{name: "misspelt key beside a good one", flowgate: `{"behaviourDiff": {"maxChangedPercent": 5, "maxDecisionChangedPercent": 1}}`, wantErr: true},
		{name: "null", flowgate: `{"behaviourDiff": null}`, wantErr: true},
		{name: "an array", flowgate: `{"behaviourDiff": [5]}`, wantErr: true},
		{name: "a number", flowgate: `{"behaviourDiff": 5}`, wantErr: true},
		{name: "flowgate not an object", flowgate: `"strict"`, wantErr: true},
		{name: "flowgate null", flowgate: `null`, wantErr: true},
	}
	same := func(a, b *DiffPolicy) bool {
		eq := func(x, y *float64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
		return a == nil && b == nil || a != nil && b != nil && eq(a.MaxChangedPercent, b.MaxChangedPercent) && eq(a.MaxDecisionsChangedPercent, b.MaxDecisionsChangedPercent)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := `{"version": "2024-12-09"`
			if c.flowgate != "" {
				in += `, "flowgate": ` + c.flowgate
			}
			in += "}"
			cfg, ds := ParseKindeJSON([]byte(in))
			if cfg == nil {
				t.Fatalf("the whole kinde.json was refused: %v", messages(ds))
			}
			if c.wantErr {
				if got := brief(ds); !slices.Equal(got, []string{"error invalid-diff-policy kinde.json:1:39"}) {
					t.Fatalf("diagnostics %v (%s)", got, messages(ds))
				}
				if cfg.DiffPolicy != nil {
					t.Fatalf("a refused policy was kept: %+v", cfg.DiffPolicy)
				}
				return
			}
			if len(ds) != 0 {
				t.Fatalf("diagnostics: %s", messages(ds))
			}
			if !same(cfg.DiffPolicy, c.want) {
				t.Fatalf("policy %+v, want %+v", cfg.DiffPolicy, c.want)
			}
			// A builder process sends the config as JSON: the policy travels.
			b, err := cfg.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			var back Config
			if err := back.UnmarshalJSON(b); err != nil {
				t.Fatal(err)
			}
			if !same(back.DiffPolicy, c.want) {
				t.Fatalf("after the builder's JSON: %+v", back.DiffPolicy)
			}
		})
	}
}
