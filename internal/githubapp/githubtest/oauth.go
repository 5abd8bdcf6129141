package githubtest

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
)

// Sign-in with GitHub: the OAuth web flow (authorize, then the code traded
// for a user token) and the REST calls made with that token.

// SignInAs makes the authorize page approve login from now on, as if
// that person were signed in to GitHub and clicked Authorize; "" makes it
// deny (error=access_denied).
func (s *Server) SignInAs(login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signInAs = login
}

// SetPublic makes repo public (anyone signed in may read it) or private.
func (s *Server) SetPublic(repo string, public bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.public[repo] = public
}

// UserTokens returns the OAuth user tokens GitHub still accepts.
func (s *Server) UserTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.userTokens))
	for tok := range s.userTokens {
		out = append(out, tok)
	}
	return out
}

// RevokeUserTokens makes GitHub stop accepting every user token, as when
// people revoke the App's access.
func (s *Server) RevokeUserTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.userTokens)
}

// authorize is GitHub's authorize page: it sends the browser back to
// redirect_uri with a one-use code (or error=access_denied) and the state.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	back, err := url.Parse(q.Get("redirect_uri"))
	if q.Get("client_id") != s.ClientID || err != nil || back.Host == "" {
		http.Error(w, "bad authorize request", http.StatusBadRequest)
		return
	}
	code := "code_" + randomHex()
	s.mu.Lock()
	login := s.signInAs
	if login != "" {
		s.oauthCodes[code] = login
	}
	s.mu.Unlock()
	v := back.Query()
	if login == "" {
		v.Set("error", "access_denied")
	} else {
		v.Set("code", code)
	}
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// oauthToken trades a code and the App's client credentials for a user
// token. It answers JSON (what clients that send Accept:
// application/json get); errors come as a 200 with "error", as GitHub
// answers them.
func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if r.PostForm.Get("client_id") != s.ClientID || r.PostForm.Get("client_secret") != s.ClientSecret {
		writeJSON(w, 200, map[string]string{"error": "incorrect_client_credentials"})
		return
	}
	code := r.PostForm.Get("code")
	tok := "gho_" + randomHex()
	s.mu.Lock()
	login, ok := s.oauthCodes[code]
	delete(s.oauthCodes, code)
	if ok {
		s.userTokens[tok] = login
	}
	s.mu.Unlock()
	if !ok {
		writeJSON(w, 200, map[string]string{"error": "bad_verification_code"})
		return
	}
	writeJSON(w, 200, map[string]string{"access_token": tok, "token_type": "bearer", "scope": ""})
}

// login is the person whose user token authorizes r, "" for none.
func (s *Server) login(r *http.Request) string {
	tok := strings.TrimPrefix(strings.TrimPrefix(r.Header.Get("Authorization"), "token "), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userTokens[tok]
}

// user answers who the token's person is.
func (s *Server) user(w http.ResponseWriter, r *http.Request) {
	login := s.login(r)
	if login == "" {
		apiError(w, 401, "Bad credentials")
		return
	}
	writeJSON(w, 200, s.userJSON(login))
}

// repository answers a repository as the token's person sees it, with
// their permissions: their role (SetPermission), read on a public one
// when they have none; a private one they have no role on is Not Found.
func (s *Server) repository(w http.ResponseWriter, r *http.Request) {
	login := s.login(r)
	if login == "" {
		apiError(w, 401, "Bad credentials")
		return
	}
	full := r.PathValue("owner") + "/" + r.PathValue("repo")
	s.mu.Lock()
	role, public := s.permissions[full+":"+login], s.public[full]
	s.mu.Unlock()
	rank := map[string]int{"read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}[role]
	if public && rank == 0 {
		rank = 1
	}
	if rank == 0 {
		apiError(w, 404, "Not Found")
		return
	}
	writeJSON(w, 200, s.repositoryJSON(full, public, map[string]bool{
		"pull": rank >= 1, "triage": rank >= 2, "push": rank >= 3, "maintain": rank >= 4, "admin": rank >= 5}))
}

// userJSON is a user as the REST API answers it (GitHub's public-user).
func (s *Server) userJSON(login string) map[string]any {
	api := s.URL + "/users/" + login
	now := s.Now().UTC().Format("2006-01-02T15:04:05Z")
	u := map[string]any{
		"login": login, "id": 1, "node_id": "U_1", "type": "User", "site_admin": false, "user_view_type": "public",
		"avatar_url": s.URL + "/avatars/" + login, "gravatar_id": "", "url": api, "html_url": s.URL + "/" + login,
		"following_url": api + "/following{/other_user}", "gists_url": api + "/gists{/gist_id}",
		"starred_url": api + "/starred{/owner}{/repo}", "events_url": api + "/events{/privacy}",
		"name": login, "company": nil, "blog": "", "location": nil, "email": nil, "hireable": nil, "bio": nil,
		"public_repos": 0, "public_gists": 0, "followers": 0, "following": 0, "created_at": now, "updated_at": now,
	}
	for _, k := range []string{"followers", "organizations", "received_events", "repos", "subscriptions"} {
		u[k+"_url"] = api + "/" + k
	}
	return u
}

// repositoryJSON is a repository as the REST API answers it (GitHub's
// full-repository), with the caller's permissions.
func (s *Server) repositoryJSON(full string, public bool, perms map[string]bool) map[string]any {
	owner, name, _ := strings.Cut(full, "/")
	api := s.URL + "/repos/" + full
	now := s.Now().UTC().Format("2006-01-02T15:04:05Z")
	visibility := "private"
	if public {
		visibility = "public"
	}
	repo := map[string]any{
		"id": RepoID, "node_id": "R_1", "name": name, "full_name": full, "owner": s.userJSON(owner),
		"private": !public, "visibility": visibility, "permissions": perms, "description": nil, "fork": false,
		"url": api, "html_url": s.URL + "/" + full, "clone_url": s.URL + "/" + full + ".git",
		"git_url": "git://" + strings.TrimPrefix(s.URL, "http://") + "/" + full + ".git",
		"ssh_url": "git@localhost:" + full + ".git", "svn_url": s.URL + "/" + full, "mirror_url": nil, "homepage": nil,
		"language": "TypeScript", "license": nil, "default_branch": "main", "size": 1,
		"forks": 0, "forks_count": 0, "stargazers_count": 0, "watchers": 0, "watchers_count": 0,
		"open_issues": 0, "open_issues_count": 0, "network_count": 0, "subscribers_count": 0,
		"has_issues": true, "has_projects": false, "has_wiki": false, "has_pages": false, "has_discussions": false,
		"archived": false, "disabled": false, "pushed_at": now, "created_at": now, "updated_at": now,
	}
	for _, k := range []string{"archive", "assignees", "blobs", "branches", "collaborators", "comments", "commits",
		"compare", "contents", "contributors", "deployments", "downloads", "events", "forks", "git_commits",
		"git_refs", "git_tags", "hooks", "issue_comment", "issue_events", "issues", "keys", "labels", "languages",
		"merges", "milestones", "notifications", "pulls", "releases", "stargazers", "statuses", "subscribers",
		"subscription", "tags", "teams", "trees"} {
		repo[k+"_url"] = api + "/" + strings.ReplaceAll(k, "_", "/")
	}
	return repo
}

func randomHex() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
