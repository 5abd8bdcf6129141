package githubapp

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Setup is the GitHub App manifest flow: a page that creates the App on
// GitHub in one click (its permissions, events and webhook URL filled in),
// and the callback GitHub redirects to, which trades the one-time code for
// the App's id, private key and webhook secret and stores them.
//
// Anyone who completed the flow would control what Flowgate deploys, so
// both pages require State, a random value printed only to the operator's
// console; and the flow runs once.
type Setup struct {
	State     string // required on both pages (constant-time compared)
	PublicURL string // where GitHub reaches Flowgate; default: the request's host
	WebURL    string // GitHub's web site (default https://github.com)
	APIURL    string // GitHub's API (default https://api.github.com/)
	Save      func(StoredApp) error
	Client    *http.Client // default: 30s timeout

	mu   sync.Mutex
	done bool
}

// StoredApp is what the manifest flow stores (github-app.json, 0600).
type StoredApp struct {
	AppID         int64  `json:"app_id"`
	Slug          string `json:"slug"`
	HTMLURL       string `json:"html_url"`
	PrivateKey    string `json:"private_key"`
	WebhookSecret string `json:"webhook_secret"`
}

// StoredAppFile is the file under the data directory.
const StoredAppFile = "github-app.json"

// SaveStoredApp writes the credentials readable by the owner only.
func SaveStoredApp(dataDir string, a StoredApp) error {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dataDir, StoredAppFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("store GitHub App credentials: %w", err)
	}
	return os.Rename(tmp, path)
}

// LoadStoredApp reads the credentials the manifest flow stored; ok is
// false when there are none.
func LoadStoredApp(dataDir string) (a StoredApp, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dataDir, StoredAppFile))
	if errors.Is(err, os.ErrNotExist) {
		return a, false, nil
	}
	if err != nil {
		return a, false, fmt.Errorf("read %s: %w", StoredAppFile, err)
	}
	if err := json.Unmarshal(b, &a); err != nil || a.AppID <= 0 || a.PrivateKey == "" || a.WebhookSecret == "" {
		return a, false, fmt.Errorf("%s is incomplete or not JSON: delete it and run the setup again", filepath.Join(dataDir, StoredAppFile))
	}
	return a, true, nil
}

// SetupPath and SetupCallbackPath are where the flow is served.
const (
	SetupPath         = "/github/setup"
	SetupCallbackPath = "/github/setup/callback"
)

func (s *Setup) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer") // the state is in the URL
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action https: http:")
	if r.Method != http.MethodGet {
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	got := r.URL.Query().Get("state")
	if s.State == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.State)) != 1 {
		http.Error(w, "This page needs the link Flowgate printed when it started.", http.StatusForbidden)
		return
	}
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done {
		http.Error(w, "The GitHub App was already created; restart Flowgate to use it.", http.StatusGone)
		return
	}
	switch r.URL.Path {
	case SetupPath:
		s.page(w, r)
	case SetupCallbackPath:
		s.callback(w, r)
	default:
		http.NotFound(w, r)
	}
}

// manifest describes the App Flowgate needs.
func (s *Setup) manifest(base string) ([]byte, error) {
	host := strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://")
	return json.Marshal(map[string]any{
		"name": cutUTF8("Flowgate "+host, 34), "url": base, "public": false,
		"hook_attributes": map[string]any{"url": base + "/webhooks/github", "active": true},
		"redirect_url":    base + SetupCallbackPath,
		"default_permissions": map[string]string{
			"checks": "write", "contents": "read", "deployments": "write", "issues": "write",
			"pull_requests": "read", "metadata": "read",
		},
		"default_events": subscribedEvents(),
	})
}

var setupPage = template.Must(template.New("setup").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Flowgate: create the GitHub App</title>
<style>body{font:16px system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}button{font-size:1em;padding:.5em 1em}</style></head>
<body><h1>Create Flowgate's GitHub App</h1>
<p>GitHub will create an App named for this server, with the permissions Flowgate needs (checks, contents, deployments, issues, pull requests, metadata), its webhook pointing at <code>{{.Base}}/webhooks/github</code>, and then send you back here. Flowgate stores the App's credentials in its data directory.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="manifest" value="{{.Manifest}}">
<p>This creates the App on your own account; for an organisation, open this page with <code>&amp;org=NAME</code> added to its address.</p>
<button type="submit">Create the GitHub App</button>
</form></body></html>
`))

var donePage = template.Must(template.New("done").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Flowgate: GitHub App created</title>
<style>body{font:16px system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}</style></head>
<body><h1>GitHub App “{{.Slug}}” created</h1>
<ol><li><a href="{{.Install}}">Install it</a> on the repositories that hold your workflows.</li>
<li>Restart Flowgate: it reads the App's credentials from its data directory and starts receiving webhooks.</li></ol>
</body></html>
`))

func (s *Setup) base(r *http.Request) string {
	if s.PublicURL != "" {
		return strings.TrimSuffix(s.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Setup) page(w http.ResponseWriter, r *http.Request) {
	base := s.base(r)
	m, err := s.manifest(base)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	web := strings.TrimSuffix(s.WebURL, "/")
	if web == "" {
		web = "https://github.com"
	}
	action := web + "/settings/apps/new"
	if org := r.URL.Query().Get("org"); org != "" {
		if !validToken(org, 100) {
			http.Error(w, "org is not an organisation name", http.StatusBadRequest)
			return
		}
		action = web + "/organizations/" + url.PathEscape(org) + "/settings/apps/new"
	}
	action += "?state=" + url.QueryEscape(s.State)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	setupPage.Execute(w, map[string]any{"Base": base, "Action": template.URL(action), "Manifest": string(m)})
}

func (s *Setup) callback(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("code")
	if !validToken(code, 100) {
		http.Error(w, "GitHub's code is missing or malformed", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	app, err := s.convert(ctx, code)
	if err != nil {
		http.Error(w, "Could not get the App's credentials from GitHub: "+err.Error()+". Start the setup again.", http.StatusBadGateway)
		return
	}
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		http.Error(w, "The GitHub App was already created.", http.StatusGone)
		return
	}
	err = s.Save(app)
	if err == nil {
		s.done = true
	}
	s.mu.Unlock()
	if err != nil {
		http.Error(w, "Could not store the App's credentials: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	donePage.Execute(w, map[string]any{"Slug": app.Slug, "Install": template.URL(strings.TrimSuffix(app.HTMLURL, "/") + "/installations/new")})
}

// convert trades the one-time code for the App's credentials.
func (s *Setup) convert(ctx context.Context, code string) (StoredApp, error) {
	api := s.APIURL
	if api == "" {
		api = "https://api.github.com/"
	}
	if !strings.HasSuffix(api, "/") {
		api += "/"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, api+"app-manifests/"+url.PathEscape(code)+"/conversions", nil)
	if err != nil {
		return StoredApp{}, err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	cl := s.Client
	if cl == nil {
		cl = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := cl.Do(req)
	if err != nil {
		return StoredApp{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return StoredApp{}, err
	}
	if resp.StatusCode != http.StatusCreated {
		return StoredApp{}, fmt.Errorf("GitHub answered %s (the code is single-use and expires after an hour)", resp.Status)
	}
	var out struct {
		ID            int64  `json:"id"`
		Slug          string `json:"slug"`
		HTMLURL       string `json:"html_url"`
		PEM           string `json:"pem"`
		WebhookSecret string `json:"webhook_secret"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.ID <= 0 || out.PEM == "" || out.WebhookSecret == "" {
		return StoredApp{}, errors.New("GitHub's answer lacks the App id, key or webhook secret")
	}
	return StoredApp{AppID: out.ID, Slug: out.Slug, HTMLURL: out.HTMLURL, PrivateKey: out.PEM, WebhookSecret: out.WebhookSecret}, nil
}
