package sandbox

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/workflow"
)

// TestRunFrameRoundTrip: every field of a Request survives the run frame,
// empty and absent ones included ([] stubs stay [], nil stays nil).
func TestRunFrameRoundTrip(t *testing.T) {
	full := &Request{
		Settings:      workflow.Settings{ID: "w", Trigger: workflow.UserTokenGeneration, Bindings: map[string]workflow.BindingSettings{"kinde.accessToken": {ResetClaims: true}}},
		Code:          []byte("module.exports.default = async () => {}"),
		SourceMap:     []byte(`{"version":3}`),
		Event:         []byte(`{"context":{"auth":{"password":"pw"}}}`),
		Env:           map[string]bindings.EnvVar{"K": {Value: "v", IsSecret: true}},
		EncryptionKey: []byte{0, 1, 2, 255},
		AllowHosts:    []string{"127.0.0.1:8080"},
		Redact:        []string{"pw", ""},
		Stubs:         []httpstub.Stub{},
		WallTime:      1500 * time.Millisecond,
		CacheScope:    "env_1",
		Record:        true,
	}
	for _, c := range []struct {
		name    string
		req     *Request
		hasCode bool
	}{
		{"everything, with the bundle", full, true},
		{"everything, bundle by digest", full, false},
		{"empty", &Request{}, true},
		{"empty by digest", &Request{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			meta, err := encodeMeta(c.req)
			if err != nil {
				t.Fatal(err)
			}
			in := runMsg{Seq: 7, WallTime: c.req.WallTime, HasCode: c.hasCode, Digest: runtime.Digest(c.req.Code, c.req.SourceMap), Meta: meta, Request: c.req}
			out, err := decodeRun(appendRun(nil, &in))
			if err != nil {
				t.Fatal(err)
			}
			var m runMeta
			if err := json.Unmarshal(out.Meta, &m); err != nil {
				t.Fatal(err)
			}
			got := *out.Request
			got.Settings, got.Env, got.AllowHosts, got.Stubs, got.WallTime = m.Settings, m.Env, m.AllowHosts, m.Stubs, out.WallTime
			want := *c.req
			if !c.hasCode {
				want.Code, want.SourceMap = nil, nil
			}
			if len(want.Code) == 0 && len(got.Code) == 0 {
				want.Code, got.Code = nil, nil
			}
			if len(want.SourceMap) == 0 && len(got.SourceMap) == 0 {
				want.SourceMap, got.SourceMap = nil, nil
			}
			if len(want.Redact) == 0 {
				want.Redact = nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded %+v\nwant    %+v", got, want)
			}
			if out.Seq != 7 || out.HasCode != c.hasCode || out.Digest != in.Digest {
				t.Errorf("header %d %v %x", out.Seq, out.HasCode, out.Digest)
			}
		})
	}
}

// FuzzDecodeRun: a run frame never panics the worker, and one that
// decodes encodes back to the same bytes.
func FuzzDecodeRun(f *testing.F) {
	req := claimsRequest()
	meta, _ := encodeMeta(req)
	f.Add(appendRun(nil, &runMsg{Seq: 1, HasCode: true, Meta: meta, Request: req}))
	f.Add(appendRun(nil, &runMsg{Seq: 2, Meta: meta, Request: &Request{Redact: []string{"a", "bc"}}}))
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 64))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := decodeRun(body)
		if err != nil {
			return
		}
		if again := appendRun(nil, m); !bytes.Equal(again, body) {
			t.Fatalf("decoded %q, encodes back as %q", body, again)
		}
	})
}

// TestJSONDepth: the answer check counts nesting outside strings only.
func TestJSONDepth(t *testing.T) {
	for text, want := range map[string]int{
		`1`:                      0,
		`{"a":[1,{"b":[]}]}`:     4,
		`{"a":"[[[[{{{{"}`:       1,
		`["\"[[[", ["x\\"], []]`: 2,
	} {
		if got := jsonDepth([]byte(text)); got != want {
			t.Errorf("jsonDepth(%s) = %d, want %d", text, got, want)
		}
	}
}
