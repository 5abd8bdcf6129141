package wftest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/workflow"
)

// A workflow that reads a profile over kinde.fetch and sets a claim from it.
const profileCode = `
exports.default = async function (event) {
  const r = kinde.fetch("https://crm.example.com/users/" + event.context.user.id, {method: "GET", responseFormat: "json"});
  kinde.accessToken.setCustomClaim("plan", r.json.plan);
  console.log("pw " + (event.context.auth && event.context.auth.password));
  if (event.context.seal) kinde.secureFetch("https://crm.example.com/seal", {method: "POST", body: {a: 1}});
};`

func TestRunCase(t *testing.T) {
	runner := sandbox.NewInProcess(sandbox.Options{})
	defer runner.Close()
	w := &invoke.Workflow{
		Settings: workflow.Settings{ID: "profile", Trigger: workflow.UserTokenGeneration,
			Bindings: map[string]workflow.BindingSettings{workflow.BindFetch: {}, workflow.BindSecureFetch: {}, workflow.BindAccessToken: {}}},
		Code: []byte(profileCode),
	}
	file := `{"workflow": "profile", "cases": [
	  {"name": "stubbed", "event": {"context": {"user": {"id": "kp_1"}}},
	   "fetch": [{"url": "https://crm.example.com/users/kp_1", "json": {"plan": "pro"}}],
	   "expect": {"accessToken": {"customClaims": {"plan": "pro"}}}},
	  {"name": "wrong claim", "event": {"context": {"user": {"id": "kp_1"}}},
	   "fetch": [{"url": "https://crm.example.com/users/kp_1", "json": {"plan": "free"}}],
	   "expect": {"accessToken": {"customClaims": {"plan": "pro"}}}},
	  {"name": "no stub: never the network", "event": {"context": {"user": {"id": "kp_2"}}}},
	  {"name": "password redacted", "event": {"context": {"user": {"id": "kp_1"}, "auth": {"password": "hunter2000"}}},
	   "fetch": [{"url": "https://crm.example.com/users/kp_1", "json": {"plan": "pro"}}],
	   "expect": {"logs": [{"message": "pw ***"}]}},
	  {"name": "a failure matched by kind", "event": {"context": {"user": {"id": "kp_1"}, "seal": true}},
	   "fetch": [{"url": "https://crm.example.com/users/kp_1", "json": {"plan": "pro"}}],
	   "expect": {"status": "failed", "error": {"kind": "binding"}}},
	  {"name": "the wrong kind fails", "event": {"context": {"user": {"id": "kp_1"}, "seal": true}},
	   "fetch": [{"url": "https://crm.example.com/users/kp_1", "json": {"plan": "pro"}}],
	   "expect": {"status": "failed", "error": {"kind": "timeout"}}}
	]}`
	f, err := Parse([]byte(file), "p.test.json", nil, ".")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"stubbed":                    "",
		"wrong claim":                `accessToken.customClaims.plan: want "pro", got "free"`,
		"no stub: never the network": "no stubbed response for GET https://crm.example.com/users/kp_2",
		"password redacted":          "",
		"a failure matched by kind":  "",
		"the wrong kind fails":       `error.kind: want "timeout", got "binding"`,
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			lines := strings.Join(RunCase(context.Background(), runner, w, c), "\n")
			if want[c.Name] == "" && lines != "" || !strings.Contains(lines, want[c.Name]) {
				t.Errorf("failures:\n%s\nwant %q", lines, want[c.Name])
			}
		})
	}
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{"src/a.test.json", "src/sub/b.test.json", "src/node_modules/x.test.json", "src/.hidden/y.test.json", "src/c.json", "other/d.test.json"} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Find(root, "src")
	if err != nil || strings.Join(got, ",") != filepath.Join("src", "a.test.json")+","+filepath.Join("src", "sub", "b.test.json") {
		t.Errorf("Find = %q, %v", got, err)
	}
	if got, err := Find(root, "missing"); err != nil || len(got) != 0 {
		t.Errorf("Find(missing) = %q, %v", got, err)
	}
}
