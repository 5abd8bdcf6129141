package githubtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/flowgate/flowgate/internal/testenv"
)

// exampleIndex is @octokit/webhooks-examples' payloads by event, as
// GitHub sent them. It is read once and never written after.
var exampleIndex = sync.OnceValues(func() (map[string][]json.RawMessage, error) {
	data, err := os.ReadFile(filepath.Join(examplesDir(), "index.json"))
	if err != nil {
		return nil, err
	}
	var idx []struct {
		Name     string            `json:"name"`
		Examples []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, err
	}
	out := map[string][]json.RawMessage{}
	for _, e := range idx {
		out[e.Name] = e.Examples
	}
	return out, nil
})

func examplesDir() string {
	return filepath.Join(testenv.Root(), "testdata", "npm", "node_modules", "@octokit", "webhooks-examples", "api.github.com")
}

// Example returns the first real payload of event (npm
// @octokit/webhooks-examples, installed into testdata/npm) whose "action"
// is action, any action when it is "". Without the package the test
// skips (fails under FLOWGATE_REQUIRE_DEPS=1).
func Example(t testing.TB, event, action string) json.RawMessage {
	t.Helper()
	if _, err := os.Stat(filepath.Join(examplesDir(), "index.json")); err != nil {
		testenv.Missing(t, "npm package @octokit/webhooks-examples", "run `npm ci --prefix testdata/npm` (what .ci/run does)")
	}
	idx, err := exampleIndex()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range idx[event] {
		var head struct {
			Action string `json:"action"`
		}
		json.Unmarshal(p, &head)
		if action == "" || head.Action == action {
			return p
		}
	}
	t.Fatalf("no %s/%s example payload", event, action)
	return nil
}

// Aim re-aims a webhook payload at Repo: its repository (when it has
// one) gets id RepoID, Repo's names and owner and default branch "main";
// its installation becomes Installation. Then each field of set is put at
// its dotted path (see Set). It returns the payload as JSON.
func Aim(t testing.TB, payload []byte, set map[string]any) []byte {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(payload, &p); err != nil {
		t.Fatal(err)
	}
	owner, name, _ := strings.Cut(Repo, "/")
	if repo, ok := p["repository"].(map[string]any); ok {
		repo["id"], repo["name"], repo["full_name"], repo["default_branch"] = RepoID, name, Repo, "main"
		if o, ok := repo["owner"].(map[string]any); ok {
			o["login"], o["name"] = owner, owner
		}
	}
	p["installation"] = map[string]any{"id": Installation, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNw=="}
	for k, v := range set {
		Set(p, k, v)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Set puts v at a dotted path of m ("pull_request.head.sha"), making
// the objects on the way that are missing.
func Set(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, k := range parts[:len(parts)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

// Webhook is the Example of event and action, re-aimed and changed by set
// (see Aim).
func Webhook(t testing.TB, event, action string, set map[string]any) []byte {
	t.Helper()
	return Aim(t, Example(t, event, action), set)
}

// Push is a real push payload to Repo's main branch: from a commit made
// from after to after, by one commit that modified the changed paths.
// Fields of set (dotted paths) replace any of that.
func Push(t testing.TB, after string, changed []string, set map[string]any) []byte {
	t.Helper()
	mods := []any{}
	for _, c := range changed {
		mods = append(mods, c)
	}
	s := map[string]any{
		"ref": "refs/heads/main", "after": after, "before": SHA("before-" + after), "forced": false, "deleted": false, "created": false,
		"commits": []any{map[string]any{"id": after, "added": []any{}, "removed": []any{}, "modified": mods, "message": "change", "distinct": true}},
	}
	for k, v := range set {
		s[k] = v
	}
	return Webhook(t, "push", "", s)
}

// PullRequest is a pull request as the REST API answers it, for
// SetPullRequest: the pull_request of a real "opened" payload, numbered
// n, from commit head of headRepo ("owner/name") onto commit base.
func PullRequest(t testing.TB, n int, head, base, headRepo string) map[string]any {
	t.Helper()
	var p struct {
		PullRequest map[string]any `json:"pull_request"`
	}
	if err := json.Unmarshal(Example(t, "pull_request", "opened"), &p); err != nil {
		t.Fatal(err)
	}
	pr := p.PullRequest
	pr["number"] = n
	Set(pr, "head.sha", head)
	Set(pr, "base.sha", base)
	Set(pr, "head.repo.full_name", headRepo)
	return pr
}

// Sign is the X-Hub-Signature-256 header GitHub sends with body for a
// webhook whose secret is secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Delivery is a webhook delivery as GitHub posts it to url: body with
// its event, delivery id and signature (made with secret). It can be sent
// by a client or handed to a handler's ServeHTTP.
func Delivery(url, event, id string, body, secret []byte) *http.Request {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", Sign(secret, body))
	return req
}
