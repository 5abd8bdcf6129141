package sandbox

import (
	"bytes"
	"testing"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/workflow"
)

// The memo answers by value: a request whose settings, variables or
// allow-list differ in any field — including a caller's map changed in
// place after an earlier call — gets its own encoding, never a stale one.
func TestMetaMemoByValue(t *testing.T) {
	base := func() *Request {
		return &Request{
			Settings: workflow.Settings{ID: "a", Trigger: workflow.UserTokenGeneration,
				Bindings: map[string]workflow.BindingSettings{workflow.BindAccessToken: {}}},
			Env:        map[string]bindings.EnvVar{"PLAN": {Value: "free"}},
			AllowHosts: []string{"127.0.0.1:8080"},
		}
	}
	var m metaMemo
	first := base()
	cases := []struct {
		name   string
		change func(r *Request)
	}{
		{"same values", func(*Request) {}},
		{"id", func(r *Request) { r.Settings.ID = "b" }},
		{"name", func(r *Request) { r.Settings.Name = "n" }},
		{"failure policy", func(r *Request) { r.Settings.FailurePolicy.Action = "continue" }},
		{"binding option", func(r *Request) {
			r.Settings.Bindings[workflow.BindAccessToken] = workflow.BindingSettings{ResetClaims: true}
		}},
		{"variable value", func(r *Request) { r.Env["PLAN"] = bindings.EnvVar{Value: "pro"} }},
		{"variable secret", func(r *Request) { r.Env["PLAN"] = bindings.EnvVar{Value: "free", IsSecret: true} }},
		{"variable unreadable", func(r *Request) { r.Env["PLAN"] = bindings.EnvVar{Unreadable: "no key"} }},
		{"variable added", func(r *Request) { r.Env["X"] = bindings.EnvVar{} }},
		{"no variables", func(r *Request) { r.Env = nil }},
		{"allow-list", func(r *Request) { r.AllowHosts = []string{"127.0.0.1:8081"} }},
		{"stubs", func(r *Request) { r.Stubs = []httpstub.Stub{} }},
		{"first request's map changed in place", func(*Request) { first.Env["PLAN"] = bindings.EnvVar{Value: "gold"} }},
	}
	if _, err := m.encode(first); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := base()
			if c.name == "first request's map changed in place" {
				r = first
			}
			c.change(r)
			got, err := m.encode(r)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := encodeMeta(r)
			if !bytes.Equal(got, want) {
				t.Errorf("memo gave %s, want %s", got, want)
			}
			// And again, now that it may be in the memo.
			if again, _ := m.encode(r); !bytes.Equal(again, want) {
				t.Errorf("second call gave %s, want %s", again, want)
			}
		})
	}
}
