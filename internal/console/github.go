package console

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Sign-in with GitHub (the App's OAuth credentials). At sign-in the
// console asks GitHub, as the person, what they may do on each
// environment's repository, and keeps the answer in the signed session: a
// person sees an environment only when they can read its repository and
// changes it only with the permission slash commands need (MinPermission).
// The session keeps the person's GitHub token sealed, and reads the roles
// again every RecheckEvery, so a removal on GitHub reaches the console.

// GitHubOAuth configures sign-in with GitHub.
type GitHubOAuth struct {
	ClientID, ClientSecret string
	// WebURL is where people authorize (default https://github.com/);
	// APIURL answers /user and /repos (default https://api.github.com/).
	WebURL, APIURL string
	// PublicURL, when set, is the base of the callback URL; else it is
	// made from the request's host.
	PublicURL string
	// MinPermission is what changing an environment needs: write
	// (default), maintain or admin — as for slash commands.
	MinPermission string
	// RecheckEvery is how old a session's roles may get before the next
	// request reads them again from GitHub (default 5 minutes).
	RecheckEvery time.Duration
	HTTPClient   *http.Client
}

var permissionRank = map[string]int{"read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}

const (
	oauthCookie   = "flowgate_oauth"
	githubStart   = Prefix + "signin/github"
	githubReturn  = Prefix + "signin/github/callback"
	maxGitHubBody = 1 << 20
)

func (g *GitHubOAuth) defaults() error {
	if g.ClientID == "" || g.ClientSecret == "" {
		return errors.New("console: GitHub sign-in needs the App's client id and client secret")
	}
	if g.WebURL == "" {
		g.WebURL = "https://github.com/"
	}
	if g.APIURL == "" {
		g.APIURL = "https://api.github.com/"
	}
	g.WebURL = strings.TrimSuffix(g.WebURL, "/") + "/"
	g.APIURL = strings.TrimSuffix(g.APIURL, "/") + "/"
	if g.MinPermission == "" {
		g.MinPermission = "write"
	}
	if r := permissionRank[g.MinPermission]; r < permissionRank["write"] {
		return fmt.Errorf("console: minimum permission %q: use write, maintain or admin", g.MinPermission)
	}
	if g.RecheckEvery <= 0 {
		g.RecheckEvery = 5 * time.Minute
	}
	if g.HTTPClient == nil {
		g.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	return nil
}

func (c *Console) callbackURL(r *http.Request) string {
	if base := c.opts.GitHub.PublicURL; base != "" {
		return strings.TrimSuffix(base, "/") + githubReturn
	}
	scheme := "http"
	if r.TLS != nil || c.opts.Secure {
		scheme = "https"
	}
	return scheme + "://" + r.Host + githubReturn
}

// githubSignIn sends the person to GitHub with a fresh state bound to
// this browser by a cookie.
func (c *Console) githubSignIn(w http.ResponseWriter, r *http.Request) {
	state := randomID()
	next := safeNext(r.URL.Query().Get("next"))
	payload, _ := json.Marshal(map[string]any{"s": state, "n": next, "e": c.now().Add(10 * time.Minute).Unix()})
	c.setCookie(w, oauthCookie, c.sign(payload), 600)
	q := url.Values{"client_id": {c.opts.GitHub.ClientID}, "state": {state}, "redirect_uri": {c.callbackURL(r)}, "allow_signup": {"false"}}
	http.Redirect(w, r, c.opts.GitHub.WebURL+"login/oauth/authorize?"+q.Encode(), http.StatusSeeOther)
}

// githubCallback checks the state, trades the code for a token, reads who
// the person is and what they may do on each environment's repository.
func (c *Console) githubCallback(w http.ResponseWriter, r *http.Request) {
	refuse := func(status int, msg string) {
		c.setCookie(w, oauthCookie, "", -1)
		c.renderSignIn(w, r, msg, status)
	}
	ck, err := r.Cookie(oauthCookie)
	if err != nil {
		refuse(http.StatusForbidden, "The GitHub sign-in expired or started in another browser: try again.")
		return
	}
	payload, ok := c.verify(ck.Value)
	var st struct {
		S, N string
		E    int64
	}
	if !ok || json.Unmarshal(payload, &st) != nil || c.now().Unix() >= st.E {
		refuse(http.StatusForbidden, "The GitHub sign-in expired: try again.")
		return
	}
	q := r.URL.Query()
	if q.Get("state") == "" || q.Get("state") != st.S {
		c.log.Warn("console GitHub sign-in: state mismatch", "remote", clientIP(r))
		refuse(http.StatusForbidden, "The GitHub sign-in did not start here (state mismatch): try again.")
		return
	}
	if e := q.Get("error"); e != "" {
		refuse(http.StatusUnauthorized, "GitHub did not sign you in ("+trunc(e, 80)+").")
		return
	}
	ctx := r.Context()
	token, err := c.exchangeCode(ctx, q.Get("code"), c.callbackURL(r))
	if err != nil {
		c.log.Warn("console GitHub sign-in: code exchange", "err", err)
		refuse(http.StatusBadGateway, "GitHub did not accept the sign-in: try again.")
		return
	}
	var user struct {
		Login string `json:"login"`
	}
	if err := c.githubGet(ctx, token, "user", &user); err != nil || user.Login == "" {
		c.log.Warn("console GitHub sign-in: read user", "err", err)
		refuse(http.StatusBadGateway, "GitHub did not say who you are: try again.")
		return
	}
	perms, err := c.permissions(ctx, token)
	if err != nil {
		c.log.Warn("console GitHub sign-in: permissions", "login", user.Login, "err", err)
		refuse(http.StatusBadGateway, "GitHub did not say which repositories you can read: try again.")
		return
	}
	if len(perms) == 0 {
		// Anyone on GitHub gets this far: no session row for someone who
		// could see nothing, so scripted sign-ins cannot grow the table.
		c.log.Info("console GitHub sign-in: no environment readable", "login", trunc(user.Login, 64), "remote", clientIP(r))
		refuse(http.StatusForbidden, "GitHub says you cannot read the repository of any environment here: ask for access, then sign in again.")
		return
	}
	c.setCookie(w, oauthCookie, "", -1)
	s, err := c.startSession(ctx, w, user.Login, false, perms, token)
	if err != nil {
		c.log.Warn("console GitHub sign-in: store the session", "err", err)
		refuse(http.StatusServiceUnavailable, "The session could not be stored: try again.")
		return
	}
	c.audit(r, s, "sign-in", "", "", "with", "github", "environments", len(perms))
	http.Redirect(w, r, safeNext(st.N), http.StatusSeeOther)
}

func (c *Console) exchangeCode(ctx context.Context, code, redirect string) (string, error) {
	if code == "" || len(code) > 256 {
		return "", errors.New("no usable code")
	}
	g := c.opts.GitHub
	form := url.Values{"client_id": {g.ClientID}, "client_secret": {g.ClientSecret}, "code": {code}, "redirect_uri": {redirect}}
	req, err := http.NewRequestWithContext(ctx, "POST", g.WebURL+"login/oauth/access_token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := g.HTTPClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxGitHubBody)).Decode(&out); err != nil {
		return "", fmt.Errorf("token answer (%s): %w", resp.Status, err)
	}
	if out.AccessToken == "" {
		return "", fmt.Errorf("no token (%s, %q)", resp.Status, trunc(out.Error, 80))
	}
	return out.AccessToken, nil
}

func (c *Console) githubGet(ctx context.Context, token, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, "GET", c.opts.GitHub.APIURL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := c.opts.GitHub.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden {
		return errNoAccess
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return errTokenRevoked
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, maxGitHubBody)).Decode(v)
}

var (
	errNoAccess     = errors.New("no access")
	errTokenRevoked = errors.New("GitHub no longer accepts the token")
)

// maxEnvironmentsPerSession bounds the cookie: past it, the environments
// after the first ones are not shown to GitHub users.
const maxEnvironmentsPerSession = 25

// permissions asks GitHub for the person's role on each environment's
// repository, kept with a tag of the repository it was read from;
// environments not synced from GitHub are for the admin only.
func (c *Console) permissions(ctx context.Context, token string) (map[string]string, error) {
	envs, err := c.deploy.Environments(ctx)
	if err != nil {
		return nil, err
	}
	perms := map[string]string{}
	for _, e := range envs {
		if len(perms) >= maxEnvironmentsPerSession {
			break
		}
		src, err := c.deploy.SourceFor(ctx, e.Name)
		if err != nil || src.Kind != "github" || !ownerName(src.Ref) {
			continue
		}
		var repo struct {
			Permissions map[string]bool `json:"permissions"`
			Private     bool            `json:"private"`
		}
		owner, name, _ := strings.Cut(src.Ref, "/")
		err = c.githubGet(ctx, token, "repos/"+url.PathEscape(owner)+"/"+url.PathEscape(name), &repo)
		if errors.Is(err, errNoAccess) {
			continue
		}
		if err != nil {
			return nil, err
		}
		role := roleOf(repo.Permissions)
		if role == "read" && !repo.Private {
			// Everyone on GitHub can read a public repository; its
			// environment's logs and variables are not public, so that
			// read counts for nothing.
			role = ""
		}
		if role != "" {
			perms[e.Name] = role + "@" + repoTag(src.Ref)
		}
	}
	return perms, nil
}

// roleOf names the highest role GitHub's permissions object grants.
func roleOf(p map[string]bool) string {
	for _, role := range []string{"admin", "maintain", "write", "triage", "read"} {
		key := role
		switch role {
		case "write":
			key = "push"
		case "read":
			key = "pull"
		}
		if p[key] {
			return role
		}
	}
	return ""
}

// canSee and canChange are the console's whole permission model.
func (c *Console) canSee(ctx context.Context, s *session, env string) bool {
	return s.Admin || c.role(ctx, s, env) != ""
}

func (c *Console) canChange(ctx context.Context, s *session, env string) bool {
	if s.Admin {
		return true
	}
	if c.opts.GitHub == nil || env == "" {
		return false
	}
	return permissionRank[c.role(ctx, s, env)] >= permissionRank[c.opts.GitHub.MinPermission]
}

// role is a GitHub user's role on env, as long as env is still fed by the
// repository the role was read from at sign-in.
func (c *Console) role(ctx context.Context, s *session, env string) string {
	role, tag, ok := strings.Cut(s.Perms[env], "@")
	if !ok || role == "" {
		return ""
	}
	src, err := c.deploy.SourceFor(ctx, env)
	if err != nil || src.Kind != "github" || repoTag(src.Ref) != tag {
		return ""
	}
	return role
}

// repoTag names a repository in a few bytes of the session cookie
// (GitHub names are case-insensitive).
func repoTag(ref string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(ref)))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
