package sandbox

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/workflow"
)

// viaJSON is what the supervisor got for resp when answers were JSON.
func viaJSON(t *testing.T, resp Response) Response {
	t.Helper()
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var out Response
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBinaryAnswerIsTheJSONAnswer: for every kind of Result, the binary
// answer decodes to exactly what the JSON answer decoded to.
func TestBinaryAnswerIsTheJSONAnswer(t *testing.T) {
	claims := map[string]any{
		"s": "ünïcode <&>", "n": 1.5, "neg0": math.Copysign(0, -1), "big": 1e300, "t": true, "f": false, "null": nil,
		"arr": []any{1.0, "x", []any{}, map[string]any{}, nil}, "obj": map[string]any{"a": map[string]any{"b": []any{true}}},
		"nilmap": map[string]any(nil), "nilarr": []any(nil), "": "empty key",
	}
	cases := map[string]Response{
		"succeeded with claims": {Result: &workflow.Result{WorkflowID: "w", Trigger: workflow.UserTokenGeneration, Status: workflow.StatusSucceeded,
			FailurePolicy: "stop", AccessToken: &workflow.Token{CustomClaims: claims, ResetClaims: true},
			IDToken: &workflow.Token{CustomClaims: map[string]any{}}, M2MToken: &workflow.Token{},
			Logs: []workflow.Log{{Level: "info", Message: "a\nb"}, {Level: "warn", Message: ""}}, DurationMs: 0.123}},
		"failed": {Result: &workflow.Result{Status: workflow.StatusFailed, Error: &workflow.Error{Kind: workflow.KindThrown, Message: "boom", Stack: "at x (a.ts:1:2)"}}},
		"every section": {Result: &workflow.Result{Status: workflow.StatusSucceeded,
			Auth: &workflow.Auth{Denied: true, Reason: "no"}, MFA: &workflow.MFA{EnforcementPolicy: "required"},
			Plan:       &workflow.Plan{DenySelection: &workflow.DenySelection{Message: "m", Reasons: []string{"r"}}, DenyCancellation: &workflow.DenyCancellation{Reason: "c"}},
			Widget:     &workflow.Widget{InvalidFormFields: map[string]string{"email": "bad"}},
			SSOSession: &workflow.SSOSession{Policy: "p"}, Risk: &workflow.Risk{Score: 0.5}},
			Unmatched: []string{"GET https://x/", ""}},
		"empty": {Result: &workflow.Result{}},
		"recorded answers": {Result: &workflow.Result{Status: workflow.StatusSucceeded}, Fetch: []httpstub.Stub{
			{Method: "GET", URL: "https://x/?q=ü", Status: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"a":1}`},
			{Method: "POST", URL: "https://y/", Status: 302, Headers: map[string]string{"Location": "/z"}, Truncated: true}}},
	}
	for name, resp := range cases {
		t.Run(name, func(t *testing.T) {
			b, ok := appendResult(nil, &resp)
			if !ok {
				t.Fatal("appendResult refused")
			}
			got, err := decodeResult(b)
			if err != nil {
				t.Fatal(err)
			}
			if want := viaJSON(t, resp); !reflect.DeepEqual(got, want) {
				gj, _ := json.Marshal(got)
				wj, _ := json.Marshal(want)
				t.Errorf("binary %s\nJSON   %s", gj, wj)
			}
		})
	}
}

// TestBinaryAnswerRefusesWhatJSONChanges: values JSON would alter or
// refuse are left to the JSON answer.
func TestBinaryAnswerRefusesWhatJSONChanges(t *testing.T) {
	for name, r := range map[string]*workflow.Result{
		"invalid UTF-8 log":   {Logs: []workflow.Log{{Message: "a\xffb"}}},
		"invalid UTF-8 key":   {AccessToken: &workflow.Token{CustomClaims: map[string]any{"\xff": 1.0}}},
		"NaN claim":           {AccessToken: &workflow.Token{CustomClaims: map[string]any{"x": math.NaN()}}},
		"an int claim":        {AccessToken: &workflow.Token{CustomClaims: map[string]any{"x": 1}}},
		"too deep":            {AccessToken: &workflow.Token{CustomClaims: deepResponse(maxAnswerDepth + 5).Result.AccessToken.CustomClaims}},
		"infinite duration":   {DurationMs: math.Inf(1)},
		"no result":           nil,
		"invalid UTF-8 error": {Error: &workflow.Error{Message: "\xc3"}},
	} {
		if _, ok := appendResult(nil, &Response{Result: r}); ok {
			t.Errorf("%s: encoded", name)
		}
	}
}

// TestBinaryAnswerCoversResult fails when workflow.Result gains a field:
// appendResult and decodeResult must carry it before this list changes.
func TestBinaryAnswerCoversResult(t *testing.T) {
	want := map[reflect.Type][]string{
		reflect.TypeFor[workflow.Result](): {"WorkflowID", "Trigger", "Status", "FailurePolicy", "Error", "AccessToken", "IDToken", "M2MToken",
			"Auth", "MFA", "Plan", "Widget", "SSOSession", "Risk", "Logs", "DurationMs"},
		reflect.TypeFor[workflow.Error](): {"Kind", "Message", "Stack"},
		reflect.TypeFor[workflow.Token](): {"CustomClaims", "ResetClaims"},
		reflect.TypeFor[workflow.Log]():   {"Level", "Message"},
		reflect.TypeFor[Response]():       {"Result", "Unmatched", "Fetch"},
	}
	for typ, fields := range want {
		var got []string
		for i := range typ.NumField() {
			got = append(got, typ.Field(i).Name)
		}
		if !slices.Equal(got, fields) {
			t.Errorf("%s has fields %v; the binary answer carries %v", typ, got, fields)
		}
	}
}

// FuzzDecodeResult: a malformed answer is an error, never a panic.
func FuzzDecodeResult(f *testing.F) {
	b, _ := appendResult(nil, &pingResponse)
	f.Add(b)
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'm', 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := decodeResult(body)
		if err == nil && resp.Result == nil {
			t.Fatal("no error and no Result")
		}
	})
}
