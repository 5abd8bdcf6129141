package githubtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"

	"github.com/flowgate/flowgate/internal/testenv"
)

// spec is the part of GitHub's OpenAPI description the checks read.
type spec struct {
	Paths      map[string]map[string]operation `json:"paths"`
	Components struct {
		Schemas map[string]schema `json:"schemas"`
	} `json:"components"`
}

type operation struct {
	RequestBody *struct {
		Content map[string]struct {
			Schema schema `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Content map[string]struct {
			Schema schema `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

type schema struct {
	Ref        string            `json:"$ref"`
	Required   []string          `json:"required"`
	Properties map[string]schema `json:"properties"`
	Items      *schema           `json:"items"`
	OneOf      []schema          `json:"oneOf"`
}

func (sp *spec) resolve(s schema) schema {
	if name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/"); ok {
		return sp.Components.Schemas[name]
	}
	return s
}

func loadSpec(t *testing.T) *spec {
	t.Helper()
	path := filepath.Join(testenv.NodeModules(t), "@octokit", "openapi", "generated", "api.github.com.json")
	data, err := os.ReadFile(path)
	if err != nil {
		testenv.Missing(t, "npm package @octokit/openapi", "run `npm ci --prefix testdata/npm` (what .ci/run does)")
	}
	var sp spec
	if err := json.Unmarshal(data, &sp); err != nil {
		t.Fatal(err)
	}
	return &sp
}

// TestRoutesMatchGitHub checks every route, its success status and the
// request fields the server insists on against GitHub's description.
func TestRoutesMatchGitHub(t *testing.T) {
	sp := loadSpec(t)
	for _, rt := range Routes {
		t.Run(rt.Method+" "+rt.Template, func(t *testing.T) {
			op, ok := sp.Paths[rt.Template][strings.ToLower(rt.Method)]
			if !ok {
				t.Fatalf("GitHub has no %s %s", rt.Method, rt.Template)
			}
			if _, ok := op.Responses[strconv.Itoa(rt.Status)]; !ok {
				t.Errorf("GitHub does not answer %d here", rt.Status)
			}
			var want []string
			if op.RequestBody != nil {
				want = sp.resolve(op.RequestBody.Content["application/json"].Schema).Required
			}
			got := slices.Clone(rt.Required)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("required request fields = %v, GitHub's = %v", got, want)
			}
		})
	}
	// Annotations (inside the check-run output) have their own required fields.
	op := sp.Paths["/repos/{owner}/{repo}/check-runs"]["post"]
	body := sp.resolve(op.RequestBody.Content["application/json"].Schema)
	out := sp.resolve(body.Properties["output"])
	ann := sp.resolve(*out.Properties["annotations"].Items)
	got, want := slices.Clone(AnnotationRequired), slices.Clone(ann.Required)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("annotation fields = %v, GitHub's = %v", got, want)
	}
}

// TestResponsesHaveGitHubFields calls every route and checks the answer has
// each field GitHub's schema marks required.
func TestResponsesHaveGitHubFields(t *testing.T) {
	sp := loadSpec(t)
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	s := New(42, key)
	defer s.Close()
	s.Install(7, "acme/flows")
	s.SetTarball("acme/flows", "abc", []byte("tgz"))
	s.SetPermission("acme/flows", "octocat", "maintain")

	appJWT, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer: "42", IssuedAt: jwt.NewNumericDate(time.Now()), ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Minute)),
	}).SignedString(key)
	var tok struct{ Token string }
	call(t, s, "POST", "/app/installations/7/access_tokens", "Bearer "+appJWT, nil, 201, &tok, sp, "/app/installations/{installation_id}/access_tokens")
	auth := "token " + tok.Token

	var cr struct{ ID int64 }
	call(t, s, "POST", "/repos/acme/flows/check-runs", auth, map[string]any{"name": "x", "head_sha": "abc"}, 201, &cr, sp, "/repos/{owner}/{repo}/check-runs")
	call(t, s, "PATCH", fmt.Sprintf("/repos/acme/flows/check-runs/%d", cr.ID), auth, map[string]any{"conclusion": "success",
		"output": map[string]any{"title": "t", "summary": "s", "annotations": []any{map[string]any{"path": "a.ts", "start_line": 1, "end_line": 1, "annotation_level": "failure", "message": "m"}}}},
		200, nil, sp, "/repos/{owner}/{repo}/check-runs/{check_run_id}")
	var c struct{ ID int64 }
	call(t, s, "POST", "/repos/acme/flows/issues/1/comments", auth, map[string]any{"body": "hi"}, 201, &c, sp, "/repos/{owner}/{repo}/issues/{issue_number}/comments")
	call(t, s, "POST", fmt.Sprintf("/repos/acme/flows/issues/comments/%d/reactions", c.ID), auth, map[string]any{"content": "rocket"}, 201, nil, sp, "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
	call(t, s, "GET", "/repos/acme/flows/collaborators/octocat/permission", auth, nil, 200, nil, sp, "/repos/{owner}/{repo}/collaborators/{username}/permission")
	s.SetPullRequest("acme/flows", 12, PullRequest(t, 12, "abc", "def", "acme/flows"))
	call(t, s, "GET", "/repos/acme/flows/pulls/12", auth, nil, 200, nil, sp, "/repos/{owner}/{repo}/pulls/{pull_number}")
	call(t, s, "GET", "/repos/acme/flows/pulls/13", auth, nil, 404, nil, nil, "")
	var d struct{ ID int64 }
	call(t, s, "POST", "/repos/acme/flows/deployments", auth, map[string]any{"ref": "abc", "environment": "production"}, 201, &d, sp, "/repos/{owner}/{repo}/deployments")
	call(t, s, "POST", fmt.Sprintf("/repos/acme/flows/deployments/%d/statuses", d.ID), auth, map[string]any{"state": "success"}, 201, nil, sp, "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses")

	// What sign-in with GitHub reads with the person's token.
	s.SignInAs("octocat")
	user := "Bearer " + signIn(t, s)
	call(t, s, "GET", "/user", user, nil, 200, nil, sp, "/user")
	call(t, s, "GET", "/repos/acme/flows", user, nil, 200, nil, sp, "/repos/{owner}/{repo}")
	call(t, s, "GET", "/api/v3/repos/acme/flows", user, nil, 200, nil, sp, "/repos/{owner}/{repo}")
	call(t, s, "GET", "/repos/acme/private", user, nil, 404, nil, nil, "")
	call(t, s, "GET", "/user", "Bearer gho_forged", nil, 401, nil, nil, "")

	// Refusals GitHub would give.
	call(t, s, "POST", "/repos/acme/flows/check-runs", auth, map[string]any{"name": "x"}, 422, nil, nil, "")
	call(t, s, "POST", "/repos/other/repo/check-runs", auth, map[string]any{"name": "x", "head_sha": "a"}, 404, nil, nil, "")
	call(t, s, "POST", "/repos/acme/flows/check-runs", "token ghs_forged", map[string]any{"name": "x", "head_sha": "a"}, 401, nil, nil, "")
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Issuer: "42"}).SignedString([]byte("k"))
	call(t, s, "POST", "/app/installations/7/access_tokens", "Bearer "+forged, nil, 401, nil, nil, "")
	if n := len(s.BodyErrors()); n != 1 {
		t.Errorf("body errors = %v", s.BodyErrors())
	}
}

func TestFaultsAndRedirect(t *testing.T) {
	key, _ := NewKey()
	s := New(1, key)
	defer s.Close()
	s.Install(1, "a/b")
	s.SetTarball("a/b", "sha1", []byte("archive"))
	s.mu.Lock()
	s.tokens["ghs_t"] = 1
	s.mu.Unlock()
	s.Fail(Fault{Method: "GET", PathPrefix: "/repos/a/b/tarball", Status: 502, Count: 1})
	s.Fail(Fault{PathPrefix: "/repos/a/b/tarball", Status: 403, RetryAfter: "1", Count: 1})
	get := func() *http.Response {
		req, _ := http.NewRequest("GET", s.URL+"/repos/a/b/tarball/sha1", nil)
		req.Header.Set("Authorization", "token ghs_t")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := get(); r.StatusCode != 502 {
		t.Fatalf("first: %d", r.StatusCode)
	}
	if r := get(); r.StatusCode != 403 || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("second: %d %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
	r := get() // follows the redirect to the archive
	body, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 || string(body) != "archive" {
		t.Fatalf("third: %d %q", r.StatusCode, body)
	}
}

func call(t *testing.T, s *Server, method, path, auth string, body any, status int, out any, sp *spec, template string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.URL+path, rd)
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s = %d, want %d: %s", method, path, resp.StatusCode, status, data)
	}
	if out != nil {
		json.Unmarshal(data, out)
	}
	if sp == nil {
		return
	}
	op := sp.Paths[template][strings.ToLower(method)]
	sch := sp.resolve(op.Responses[strconv.Itoa(status)].Content["application/json"].Schema)
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("%s %s: not JSON: %v", method, path, err)
	}
	// A oneOf answer must have every required field of one alternative.
	alts := []schema{sch}
	if len(sch.OneOf) > 0 {
		alts = nil
		for _, a := range sch.OneOf {
			alts = append(alts, sp.resolve(a))
		}
	}
	var missing []string
	for i, a := range alts {
		var m []string
		for _, f := range a.Required {
			if _, ok := got[f]; !ok {
				m = append(m, f)
			}
		}
		if len(m) == 0 {
			return
		}
		if i == 0 || len(m) < len(missing) {
			missing = m
		}
	}
	t.Errorf("%s %s: response lacks GitHub's required fields %q", method, template, missing)
}
