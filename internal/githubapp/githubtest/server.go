// Package githubtest is the GitHub that Flowgate's tests talk to.
//
// Server is a local HTTP server that plays the part of GitHub the
// Flowgate GitHub App and console use: installation tokens (App JWTs
// verified with RS256), repository tarballs behind a redirect, check
// runs, issue comments and reactions, collaborator permissions, pull
// requests, deployments, the App manifest flow, and sign-in with GitHub
// (the OAuth web flow, /user, a repository as a user sees it). Its REST
// routes, the required fields of the requests it accepts and of the
// responses it sends are checked against GitHub's OpenAPI description
// (npm @octokit/openapi) by this package's tests. Faults (5xx, rate
// limits with Retry-After) can be scheduled per route.
//
// The helpers beside it make what GitHub sends: repository tarballs
// (Tarball, Commit), real webhook payloads from npm
// @octokit/webhooks-examples re-aimed at the test repository (Example,
// Webhook, Push, PullRequest) and signed deliveries (Sign, Delivery).
package githubtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

// Start sets up App AppID with installation Installation on Repo
// (GitHub id RepoID); Aim points payloads at them.
const (
	AppID        = 42
	Installation = 7
	Repo         = "acme/flows"
	RepoID       = 186853002 // the repository's id in most example payloads
)

// Route is one API operation the server implements, named as in GitHub's
// OpenAPI description.
type Route struct {
	Method   string
	Template string   // OpenAPI path template
	Required []string // required top-level request body fields (GitHub's)
	Status   int      // success status
}

// Routes lists every REST operation the server serves. The OAuth web
// flow (GET /login/oauth/authorize, POST /login/oauth/access_token) is
// served too but is not part of GitHub's REST description, so it is not
// listed here.
var Routes = []Route{
	{"POST", "/app/installations/{installation_id}/access_tokens", nil, 201},
	{"GET", "/repos/{owner}/{repo}/tarball/{ref}", nil, 302},
	{"POST", "/repos/{owner}/{repo}/check-runs", []string{"name", "head_sha"}, 201},
	{"PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", nil, 200},
	{"POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", []string{"body"}, 201},
	{"POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", []string{"content"}, 201},
	{"GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", nil, 200},
	{"GET", "/repos/{owner}/{repo}/pulls/{pull_number}", nil, 200},
	{"POST", "/repos/{owner}/{repo}/deployments", []string{"ref"}, 201},
	{"POST", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", []string{"state"}, 201},
	{"POST", "/app-manifests/{code}/conversions", nil, 201},
	{"GET", "/user", nil, 200},
	{"GET", "/repos/{owner}/{repo}", nil, 200},
}

// AnnotationRequired are the fields GitHub requires on each annotation.
var AnnotationRequired = []string{"path", "start_line", "end_line", "annotation_level", "message"}

// CheckRun is a check run as the server holds it, with every annotation
// sent across its updates.
type CheckRun struct {
	ID          int64
	Repo        string
	Name        string
	HeadSHA     string
	Status      string
	Conclusion  string
	Title       string
	Summary     string
	Annotations []map[string]any
	Actions     []map[string]any
	Updates     int
}

// Comment is an issue or pull request comment the app posted.
type Comment struct {
	ID    int64
	Repo  string
	Issue int
	Body  string
}

// Reaction is a reaction the app put on a comment.
type Reaction struct {
	Repo    string
	Comment int64
	Content string
}

// Deployment is a GitHub Deployment with its statuses.
type Deployment struct {
	ID          int64
	Repo        string
	Ref         string
	Environment string
	Description string
	Payload     any
	Statuses    []string // states in order
}

// Fault is a scheduled failure: the next Count requests whose method and
// path match answer Status (with Retry-After when set), after letting the
// first After matching requests through.
type Fault struct {
	Method     string
	PathPrefix string
	Status     int
	RetryAfter string
	Count      int
	After      int
}

// Server is the fake GitHub. Create it with New or Start; it is safe for
// concurrent use. Its REST routes are served at its URL and, as GitHub
// Enterprise Server serves them, under URL/api/v3.
type Server struct {
	*httptest.Server
	AppID int64
	Key   *rsa.PrivateKey // the App's private key; tests give it to the app
	// The App's OAuth credentials: what a manifest conversion hands out
	// and what the OAuth web flow accepts.
	ClientID, ClientSecret string

	mu            sync.Mutex
	nextID        int64
	tokens        map[string]int64          // installation token -> installation id
	installations map[int64]map[string]bool // installation -> repos it may reach
	tarballs      map[string][]byte         // "owner/repo@sha" -> .tar.gz
	permissions   map[string]string         // "owner/repo:user" -> admin|maintain|write|triage|read|none
	pulls         map[string]map[string]any // "owner/repo#n" -> the pull request as GitHub answers it
	checkRuns     map[int64]*CheckRun
	comments      []Comment
	reactions     []Reaction
	deployments   map[int64]*Deployment
	faults        []*Fault
	requests      []string
	bodyErrors    []string
	tokensIssued  int
	manifestCodes map[string]bool // one-time codes of the App manifest flow
	WebhookSecret string          // what a manifest conversion hands out
	signInAs      string          // the login the OAuth authorize page approves ("" denies)
	oauthCodes    map[string]string
	userTokens    map[string]string // OAuth token -> login
	public        map[string]bool   // "owner/repo" -> public
	ahead         atomic.Int64      // how far Now is ahead of the real time (ns)
}

// New starts a server for an App with appID; key signs its JWTs.
func New(appID int64, key *rsa.PrivateKey) *Server {
	s := &Server{
		AppID: appID, Key: key,
		tokens:        map[string]int64{},
		installations: map[int64]map[string]bool{},
		tarballs:      map[string][]byte{},
		permissions:   map[string]string{},
		pulls:         map[string]map[string]any{},
		checkRuns:     map[int64]*CheckRun{},
		deployments:   map[int64]*Deployment{},
		nextID:        1000,
		manifestCodes: map[string]bool{},
		WebhookSecret: "whsec-from-manifest",
		ClientID:      "Iv1.test",
		ClientSecret:  "client-secret",
		oauthCodes:    map[string]string{},
		userTokens:    map[string]string{},
		public:        map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /app/installations/{installation_id}/access_tokens", s.accessToken)
	mux.HandleFunc("GET /repos/{owner}/{repo}/tarball/{ref}", s.repo(s.tarballRedirect))
	mux.HandleFunc("GET /_codeload/{owner}/{repo}/{sha}", s.codeload)
	mux.HandleFunc("POST /repos/{owner}/{repo}/check-runs", s.repo(s.createCheckRun))
	mux.HandleFunc("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", s.repo(s.updateCheckRun))
	mux.HandleFunc("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", s.repo(s.createComment))
	mux.HandleFunc("POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", s.repo(s.createReaction))
	mux.HandleFunc("GET /repos/{owner}/{repo}/collaborators/{username}/permission", s.repo(s.permission))
	mux.HandleFunc("GET /repos/{owner}/{repo}/pulls/{pull_number}", s.repo(s.pull))
	mux.HandleFunc("POST /repos/{owner}/{repo}/deployments", s.repo(s.createDeployment))
	mux.HandleFunc("POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", s.repo(s.createDeploymentStatus))
	mux.HandleFunc("POST /app-manifests/{code}/conversions", s.manifestConversion)
	mux.HandleFunc("GET /user", s.user)
	mux.HandleFunc("GET /repos/{owner}/{repo}", s.repository)
	root := http.NewServeMux()
	root.Handle("/", mux)
	root.Handle("/api/v3/", http.StripPrefix("/api/v3", mux))
	root.HandleFunc("GET /login/oauth/authorize", s.authorize)
	root.HandleFunc("POST /login/oauth/access_token", s.oauthToken)
	s.Server = httptest.NewServer(s.faulty(root))
	return s
}

// Start starts a server for App AppID (with a new key) that has
// installation Installation on Repo, and closes it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	s := New(AppID, key)
	t.Cleanup(s.Close)
	s.Install(Installation, Repo)
	return s
}

// NewKey makes an RSA key for an App (2048 bits, as GitHub issues).
func NewKey() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) }

// PEM is the App's private key as GitHub hands it out.
func (s *Server) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(s.Key)})
}

// Now is the server's clock: the real time moved on by Advance. Its
// answers are dated by it; tests hand it to code under test that must
// see the same time pass.
func (s *Server) Now() time.Time { return time.Now().Add(time.Duration(s.ahead.Load())) }

// Advance moves Now on by d.
func (s *Server) Advance(d time.Duration) { s.ahead.Add(int64(d)) }

// Install adds an installation that can reach repos ("owner/name").
func (s *Server) Install(id int64, repos ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.installations[id] == nil {
		s.installations[id] = map[string]bool{}
	}
	for _, r := range repos {
		s.installations[id][r] = true
	}
}

// SetTarball serves a .tar.gz for repo at sha.
func (s *Server) SetTarball(repo, sha string, tgz []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tarballs[repo+"@"+sha] = tgz
}

// SetPermission sets user's role on repo (admin, maintain, write, triage,
// read or none); "" removes it, as if user were taken off the repository.
func (s *Server) SetPermission(repo, user, perm string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if perm == "" {
		delete(s.permissions, repo+":"+user)
		return
	}
	s.permissions[repo+":"+user] = perm
}

// SetPullRequest serves pr (a pull request object as GitHub answers it,
// e.g. the "pull_request" of a real webhook payload) as repo's pull
// request number n; a nil pr removes it.
func (s *Server) SetPullRequest(repo string, n int, pr map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pr == nil {
		delete(s.pulls, fmt.Sprintf("%s#%d", repo, n))
		return
	}
	s.pulls[fmt.Sprintf("%s#%d", repo, n)] = pr
}

func (s *Server) pull(w http.ResponseWriter, r *http.Request, repo string, _ map[string]any) {
	s.mu.Lock()
	pr, ok := s.pulls[repo+"#"+r.PathValue("pull_number")]
	out := make(map[string]any, len(pr)+1)
	for k, v := range pr {
		out[k] = v
	}
	s.mu.Unlock()
	if !ok {
		apiError(w, 404, "Not Found")
		return
	}
	if _, ok := out["auto_merge"]; !ok {
		out["auto_merge"] = nil // the REST answer has it; older webhook payloads do not
	}
	writeJSON(w, 200, out)
}

// Fail schedules a fault.
func (s *Server) Fail(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ManifestCode makes code a valid one-time code of the App manifest flow
// (GitHub hands it to the redirect URL after the App is created); its
// conversion returns this server's App id and key.
func (s *Server) ManifestCode(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.manifestCodes[code] = true
}

// manifestConversion trades a one-time code for the new App's
// credentials (no authentication: the code is the secret).
func (s *Server) manifestConversion(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	s.mu.Lock()
	ok := s.manifestCodes[code]
	delete(s.manifestCodes, code)
	s.mu.Unlock()
	if !ok {
		apiError(w, 404, "Not Found")
		return
	}
	now := s.Now().UTC().Format(time.RFC3339)
	writeJSON(w, 201, map[string]any{
		"id": s.AppID, "slug": "flowgate-test", "node_id": "A_1", "owner": bot(), "name": "Flowgate test",
		"description": "", "external_url": s.URL, "html_url": s.URL + "/apps/flowgate-test",
		"created_at": now, "updated_at": now,
		"permissions": map[string]string{"checks": "write", "contents": "read", "deployments": "write", "issues": "write", "pull_requests": "read", "metadata": "read"},
		"events":      []string{"push", "pull_request", "issue_comment", "check_run", "check_suite"},
		"client_id":   s.ClientID, "client_secret": s.ClientSecret, "webhook_secret": s.WebhookSecret, "pem": string(s.PEM()),
	})
}

// ClearFaults drops every scheduled fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// CheckRuns returns copies of repo's check runs in creation order.
func (s *Server) CheckRuns(repo string) []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CheckRun
	for id := int64(0); id <= s.nextID; id++ {
		if c, ok := s.checkRuns[id]; ok && c.Repo == repo {
			cp := *c
			cp.Annotations = append([]map[string]any(nil), c.Annotations...)
			out = append(out, cp)
		}
	}
	return out
}

// Checks returns the check runs on repo at sha by name, the newest of
// each name.
func (s *Server) Checks(repo, sha string) map[string]CheckRun {
	out := map[string]CheckRun{}
	for _, c := range s.CheckRuns(repo) {
		if c.HeadSHA == sha {
			out[c.Name] = c
		}
	}
	return out
}

// Comments returns the comments posted on repo.
func (s *Server) Comments(repo string) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments {
		if c.Repo == repo {
			out = append(out, c)
		}
	}
	return out
}

// Reactions returns the reactions put on repo's comments.
func (s *Server) Reactions(repo string) []Reaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Reaction
	for _, r := range s.reactions {
		if r.Repo == repo {
			out = append(out, r)
		}
	}
	return out
}

// Deployments returns repo's deployments in creation order.
func (s *Server) Deployments(repo string) []Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Deployment
	for id := int64(0); id <= s.nextID; id++ {
		if d, ok := s.deployments[id]; ok && d.Repo == repo {
			cp := *d
			cp.Statuses = append([]string(nil), d.Statuses...)
			out = append(out, cp)
		}
	}
	return out
}

// Requests returns "METHOD path" for every request served, faults included.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// BodyErrors lists requests whose bodies lacked fields GitHub requires.
// A correct client leaves it empty.
func (s *Server) BodyErrors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodyErrors...)
}

// TokensIssued counts installation tokens handed out.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokensIssued
}

// faulty records requests and answers scheduled faults before the routes.
func (s *Server) faulty(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Method+" "+r.URL.Path)
		var hit *Fault
		for _, f := range s.faults {
			if f.Count > 0 && (f.Method == "" || f.Method == r.Method) && strings.HasPrefix(r.URL.Path, f.PathPrefix) {
				if f.After > 0 {
					f.After--
					continue
				}
				f.Count--
				hit = f
				break
			}
		}
		s.mu.Unlock()
		if hit != nil {
			if hit.RetryAfter != "" {
				w.Header().Set("Retry-After", hit.RetryAfter)
			}
			if hit.Status == http.StatusForbidden || hit.Status == http.StatusTooManyRequests {
				w.Header().Set("X-RateLimit-Remaining", "0")
				w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(s.Now().Add(time.Second).Unix(), 10))
				apiError(w, hit.Status, "API rate limit exceeded for installation.")
				return
			}
			apiError(w, hit.Status, "Server Error")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// accessToken issues an installation token to a valid App JWT.
func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		apiError(w, 401, "A JSON web token could not be decoded")
		return
	}
	claims := &jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if t.Method != jwt.SigningMethodRS256 {
			return nil, fmt.Errorf("unexpected alg %v", t.Header["alg"])
		}
		return &s.Key.PublicKey, nil
	})
	if err != nil || claims.Issuer != strconv.FormatInt(s.AppID, 10) {
		apiError(w, 401, "'Issuer' claim ('iss') must be an Integer / A JSON web token could not be verified")
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("installation_id"), 10, 64)
	s.mu.Lock()
	_, known := s.installations[id]
	var token string
	if known {
		token = "ghs_" + randomHex()
		s.tokens[token] = id
		s.tokensIssued++
	}
	s.mu.Unlock()
	if !known {
		apiError(w, 404, "Not Found")
		return
	}
	writeJSON(w, 201, map[string]any{
		"token": token, "expires_at": s.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		"permissions":          map[string]string{"checks": "write", "contents": "read"},
		"repository_selection": "selected",
	})
}

// repo checks the installation token reaches the path's repository and
// that the body has GitHub's required fields, then calls h.
func (s *Server) repo(h func(w http.ResponseWriter, r *http.Request, repo string, body map[string]any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		repo := r.PathValue("owner") + "/" + r.PathValue("repo")
		tok := strings.TrimPrefix(strings.TrimPrefix(r.Header.Get("Authorization"), "token "), "Bearer ")
		s.mu.Lock()
		inst, ok := s.tokens[tok]
		allowed := ok && s.installations[inst][repo]
		s.mu.Unlock()
		if !ok {
			apiError(w, 401, "Bad credentials")
			return
		}
		if !allowed {
			apiError(w, 404, "Not Found")
			return
		}
		var body map[string]any
		if r.Method != http.MethodGet {
			data, _ := io.ReadAll(io.LimitReader(r.Body, 10<<20))
			if err := json.Unmarshal(data, &body); err != nil {
				apiError(w, 400, "Problems parsing JSON")
				return
			}
			if msg := s.checkBody(r, body); msg != "" {
				apiError(w, 422, msg)
				return
			}
		}
		h(w, r, repo, body)
	}
}

// checkBody records and reports a missing required field.
func (s *Server) checkBody(r *http.Request, body map[string]any) string {
	var missing []string
	for _, rt := range Routes {
		if rt.Method == r.Method && r.Pattern == rt.Method+" "+rt.Template {
			for _, f := range rt.Required {
				if _, ok := body[f]; !ok {
					missing = append(missing, f)
				}
			}
		}
	}
	if out, ok := body["output"].(map[string]any); ok {
		for _, f := range []string{"title", "summary"} {
			if _, ok := out[f]; !ok {
				missing = append(missing, "output."+f)
			}
		}
		anns, _ := out["annotations"].([]any)
		if len(anns) > 50 {
			missing = append(missing, "output.annotations (at most 50 per request)")
		}
		for _, a := range anns {
			am, _ := a.(map[string]any)
			for _, f := range AnnotationRequired {
				if _, ok := am[f]; !ok {
					missing = append(missing, "annotation."+f)
				}
			}
		}
		if s, _ := out["summary"].(string); len(s) > 65535 {
			missing = append(missing, "output.summary (over 65535 characters)")
		}
	}
	if len(missing) == 0 {
		return ""
	}
	msg := fmt.Sprintf("Invalid request: %s %s: missing or invalid %s", r.Method, r.URL.Path, strings.Join(missing, ", "))
	s.mu.Lock()
	s.bodyErrors = append(s.bodyErrors, msg)
	s.mu.Unlock()
	return msg
}

func (s *Server) tarballRedirect(w http.ResponseWriter, r *http.Request, repo string, _ map[string]any) {
	s.mu.Lock()
	_, ok := s.tarballs[repo+"@"+r.PathValue("ref")]
	s.mu.Unlock()
	if !ok {
		apiError(w, 404, "Not Found")
		return
	}
	w.Header().Set("Location", s.URL+"/_codeload/"+repo+"/"+r.PathValue("ref"))
	w.WriteHeader(http.StatusFound)
}

// codeload serves the archive the redirect points at, with no
// Authorization needed (like codeload's signed URLs).
func (s *Server) codeload(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	tgz, ok := s.tarballs[r.PathValue("owner")+"/"+r.PathValue("repo")+"@"+r.PathValue("sha")]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/x-gzip")
	w.Write(tgz)
}

func (s *Server) createCheckRun(w http.ResponseWriter, r *http.Request, repo string, body map[string]any) {
	s.mu.Lock()
	s.nextID++
	c := &CheckRun{ID: s.nextID, Repo: repo, Status: "queued"}
	c.Name, _ = body["name"].(string)
	c.HeadSHA, _ = body["head_sha"].(string)
	applyCheckRun(c, body)
	c.Updates = 0
	s.checkRuns[c.ID] = c
	resp := checkRunJSON(s.URL, c, s.Now())
	s.mu.Unlock()
	writeJSON(w, 201, resp)
}

func (s *Server) updateCheckRun(w http.ResponseWriter, r *http.Request, repo string, body map[string]any) {
	id, _ := strconv.ParseInt(r.PathValue("check_run_id"), 10, 64)
	s.mu.Lock()
	c, ok := s.checkRuns[id]
	if !ok || c.Repo != repo {
		s.mu.Unlock()
		apiError(w, 404, "Not Found")
		return
	}
	applyCheckRun(c, body)
	resp := checkRunJSON(s.URL, c, s.Now())
	s.mu.Unlock()
	writeJSON(w, 200, resp)
}

func applyCheckRun(c *CheckRun, body map[string]any) {
	c.Updates++
	if v, ok := body["status"].(string); ok {
		c.Status = v
	}
	if v, ok := body["conclusion"].(string); ok {
		c.Conclusion = v
		c.Status = "completed"
	}
	if out, ok := body["output"].(map[string]any); ok {
		c.Title, _ = out["title"].(string)
		c.Summary, _ = out["summary"].(string)
		for _, a := range asSlice(out["annotations"]) {
			if am, ok := a.(map[string]any); ok {
				c.Annotations = append(c.Annotations, am)
			}
		}
	}
	for _, a := range asSlice(body["actions"]) {
		if am, ok := a.(map[string]any); ok {
			c.Actions = append(c.Actions, am)
		}
	}
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func checkRunJSON(base string, c *CheckRun, now time.Time) map[string]any {
	var conclusion any
	if c.Conclusion != "" {
		conclusion = c.Conclusion
	}
	url := fmt.Sprintf("%s/repos/%s/check-runs/%d", base, c.Repo, c.ID)
	return map[string]any{
		"id": c.ID, "node_id": fmt.Sprintf("CR_%d", c.ID), "head_sha": c.HeadSHA, "name": c.Name,
		"url": url, "html_url": url, "details_url": nil, "status": c.Status, "conclusion": conclusion,
		"started_at": now.UTC().Format(time.RFC3339), "completed_at": nil, "external_id": "",
		"check_suite": map[string]any{"id": 1}, "app": nil, "pull_requests": []any{},
		"output": map[string]any{"title": c.Title, "summary": c.Summary, "text": nil,
			"annotations_count": len(c.Annotations), "annotations_url": url + "/annotations"},
	}
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request, repo string, body map[string]any) {
	n, _ := strconv.Atoi(r.PathValue("issue_number"))
	text, _ := body["body"].(string)
	s.mu.Lock()
	s.nextID++
	c := Comment{ID: s.nextID, Repo: repo, Issue: n, Body: text}
	s.comments = append(s.comments, c)
	s.mu.Unlock()
	url := fmt.Sprintf("%s/repos/%s/issues/comments/%d", s.URL, repo, c.ID)
	now := s.Now().UTC().Format(time.RFC3339)
	writeJSON(w, 201, map[string]any{"id": c.ID, "node_id": fmt.Sprintf("IC_%d", c.ID), "html_url": url,
		"issue_url": fmt.Sprintf("%s/repos/%s/issues/%d", s.URL, repo, n), "user": bot(), "url": url,
		"created_at": now, "updated_at": now, "body": text})
}

func (s *Server) createReaction(w http.ResponseWriter, r *http.Request, repo string, body map[string]any) {
	id, _ := strconv.ParseInt(r.PathValue("comment_id"), 10, 64)
	content, _ := body["content"].(string)
	switch content {
	case "+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes":
	default:
		apiError(w, 422, "Validation Failed: content")
		return
	}
	s.mu.Lock()
	s.nextID++
	rid := s.nextID
	s.reactions = append(s.reactions, Reaction{Repo: repo, Comment: id, Content: content})
	s.mu.Unlock()
	writeJSON(w, 201, map[string]any{"id": rid, "node_id": fmt.Sprintf("R_%d", rid), "user": bot(),
		"content": content, "created_at": s.Now().UTC().Format(time.RFC3339)})
}

func (s *Server) permission(w http.ResponseWriter, r *http.Request, repo string, _ map[string]any) {
	user := r.PathValue("username")
	s.mu.Lock()
	perm, ok := s.permissions[repo+":"+user]
	s.mu.Unlock()
	if !ok {
		apiError(w, 404, "Not Found")
		return
	}
	legacy := perm // the "permission" field only knows admin, write, read, none
	switch perm {
	case "maintain":
		legacy = "write"
	case "triage":
		legacy = "read"
	}
	writeJSON(w, 200, map[string]any{"permission": legacy, "role_name": perm,
		"user": map[string]any{"login": user, "id": 1, "type": "User"}})
}

func (s *Server) createDeployment(w http.ResponseWriter, r *http.Request, repo string, body map[string]any) {
	s.mu.Lock()
	s.nextID++
	d := &Deployment{ID: s.nextID, Repo: repo, Payload: body["payload"]}
	d.Ref, _ = body["ref"].(string)
	d.Environment, _ = body["environment"].(string)
	d.Description, _ = body["description"].(string)
	if d.Environment == "" {
		d.Environment = "production"
	}
	s.deployments[d.ID] = d
	s.mu.Unlock()
	url := fmt.Sprintf("%s/repos/%s/deployments/%d", s.URL, repo, d.ID)
	now := s.Now().UTC().Format(time.RFC3339)
	writeJSON(w, 201, map[string]any{"id": d.ID, "node_id": fmt.Sprintf("DE_%d", d.ID), "sha": d.Ref, "ref": d.Ref,
		"task": "deploy", "environment": d.Environment, "creator": bot(), "payload": d.Payload,
		"description": d.Description, "statuses_url": url + "/statuses", "repository_url": s.URL + "/repos/" + repo,
		"url": url, "created_at": now, "updated_at": now})
}

func (s *Server) createDeploymentStatus(w http.ResponseWriter, r *http.Request, repo string, body map[string]any) {
	id, _ := strconv.ParseInt(r.PathValue("deployment_id"), 10, 64)
	state, _ := body["state"].(string)
	switch state {
	case "error", "failure", "inactive", "in_progress", "queued", "pending", "success":
	default:
		apiError(w, 422, "Validation Failed: state")
		return
	}
	s.mu.Lock()
	d, ok := s.deployments[id]
	if ok && d.Repo == repo {
		d.Statuses = append(d.Statuses, state)
	}
	s.nextID++
	sid := s.nextID
	s.mu.Unlock()
	if !ok || d.Repo != repo {
		apiError(w, 404, "Not Found")
		return
	}
	url := fmt.Sprintf("%s/repos/%s/deployments/%d", s.URL, repo, id)
	now := s.Now().UTC().Format(time.RFC3339)
	desc, _ := body["description"].(string)
	writeJSON(w, 201, map[string]any{"id": sid, "node_id": fmt.Sprintf("DES_%d", sid), "state": state,
		"creator": bot(), "description": desc, "deployment_url": url, "target_url": "",
		"repository_url": s.URL + "/repos/" + repo, "url": fmt.Sprintf("%s/statuses/%d", url, sid),
		"created_at": now, "updated_at": now})
}

func bot() map[string]any {
	return map[string]any{"login": "flowgate[bot]", "id": 1, "type": "Bot"}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// apiError answers the way GitHub does: {"message", "documentation_url"}.
func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"})
}
