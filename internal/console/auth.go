package console

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/workflow"
)

// A session is a row in the store named by a signed cookie (HMAC-SHA256
// under the console's key). The cookie proves which row; the row decides
// whether it still works, so signing out ends every copy of the cookie on
// every replica, and a GitHub user's roles are read again as they change.
// A sign-in always mints a new session id, whatever cookie came with it
// (no fixation), and every form carries a token derived from that id (CSRF).

// session is who is signed in.
type session struct {
	ID    string `json:"sid"`
	User  string `json:"u"`
	Admin bool   `json:"a,omitempty"` // signed in with the admin token: every permission
	Exp   int64  `json:"e"`           // Unix seconds
	// Perms maps environment -> the GitHub role on its repository and a
	// tag of that repository's name ("write@<tag>", see repoTag)
	// (read … admin), for people signed in with GitHub. It is kept in the
	// session's row, not in the cookie.
	Perms map[string]string `json:"-"`
}

// Actor is how the person is recorded in the flips history and the audit log.
func (s *session) Actor(reason string) deploy.Actor {
	return deploy.Actor{Name: s.User + " (console)", Reason: reason}
}

func (c *Console) cookieName() string {
	if c.opts.Secure {
		return "__Host-flowgate_session" // Secure, Path=/, no Domain: a sibling host cannot set it
	}
	return "flowgate_session"
}

const preCookie = "flowgate_signin"

func (c *Console) sign(payload []byte) string {
	m := hmac.New(sha256.New, c.key)
	m.Write(payload)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (c *Console) verify(v string) ([]byte, bool) {
	p, sig, ok := strings.Cut(v, ".")
	if !ok || len(v) > 4096 {
		return nil, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return nil, false
	}
	m := hmac.New(sha256.New, c.key)
	m.Write(payload)
	return payload, hmac.Equal(mac, m.Sum(nil))
}

// current reads the signed-in session, or nil: the cookie must verify and
// name a row that is neither revoked nor expired. A GitHub user's roles
// older than GitHub.RecheckEvery are read again first.
func (c *Console) current(r *http.Request) *session {
	ck, err := r.Cookie(c.cookieName())
	if err != nil {
		return nil
	}
	payload, ok := c.verify(ck.Value)
	if !ok {
		return nil
	}
	var s session
	now := c.now()
	if json.Unmarshal(payload, &s) != nil || s.ID == "" || s.User == "" || now.Unix() >= s.Exp {
		return nil
	}
	ctx := r.Context()
	row, err := c.deploy.ConsoleSession(ctx, s.ID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			c.log.Warn("console session", "err", err)
		}
		return nil
	}
	if row.Revoked || !now.Before(row.ExpiresAt) || row.User != s.User || row.Admin != s.Admin {
		return nil
	}
	if row.Perms != "" && json.Unmarshal([]byte(row.Perms), &s.Perms) != nil {
		return nil
	}
	if row.GitHubToken != "" && c.opts.GitHub == nil {
		return nil // GitHub sign-in turned off: nothing could read these roles again
	}
	if row.GitHubToken != "" && now.Sub(row.CheckedAt) >= c.opts.GitHub.RecheckEvery {
		if !c.recheck(ctx, &s, row.GitHubToken, row.CheckedAt) {
			return nil
		}
	}
	return &s
}

// maxStaleRechecks bounds how long GitHub answering errors keeps the
// roles last read: RecheckEvery times this (30 minutes by default).
const maxStaleRechecks = 6

// recheck reads a GitHub user's roles again with their sealed token. A
// token GitHub no longer accepts ends the session; GitHub unreachable
// keeps the roles last read (checked at checked), until the next request
// tries again, for at most maxStaleRechecks intervals: after that the
// session works again only once a re-check succeeds, so someone removed
// on GitHub cannot keep access by their re-checks failing.
func (c *Console) recheck(ctx context.Context, s *session, sealed string, checked time.Time) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	token, ok := c.openToken(sealed, s.ID)
	if !ok {
		_ = c.deploy.RevokeConsoleSession(ctx, s.ID)
		return false
	}
	perms, err := c.permissions(ctx, token)
	if errors.Is(err, errTokenRevoked) {
		c.log.Info("console session ended: GitHub no longer accepts the person's token", "user", s.User)
		_ = c.deploy.RevokeConsoleSession(ctx, s.ID)
		return false
	}
	if err != nil {
		c.log.Warn("console session: reading GitHub roles again", "user", s.User, "err", err)
		return c.now().Sub(checked) < maxStaleRechecks*c.opts.GitHub.RecheckEvery
	}
	enc, _ := json.Marshal(perms)
	if err := c.deploy.RecheckConsoleSession(ctx, s.ID, string(enc), c.now()); err != nil {
		c.log.Warn("console session: recording GitHub roles", "user", s.User, "err", err)
	}
	s.Perms = perms
	return true
}

func (c *Console) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: c.opts.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// startSession signs a person in with a fresh session id, stored with
// their roles and (GitHub sign-in) their sealed token.
func (c *Console) startSession(ctx context.Context, w http.ResponseWriter, user string, admin bool, perms map[string]string, githubToken string) (*session, error) {
	now := c.now()
	s := &session{ID: randomID(), User: user, Admin: admin, Perms: perms, Exp: now.Add(c.opts.SessionTTL).Unix()}
	row := store.ConsoleSession{ID: s.ID, User: user, Admin: admin, CheckedAt: now, ExpiresAt: time.Unix(s.Exp, 0)}
	if len(perms) > 0 {
		enc, _ := json.Marshal(perms)
		row.Perms = string(enc)
	}
	if githubToken != "" {
		row.GitHubToken = c.sealToken(githubToken, s.ID)
	}
	if err := c.deploy.CreateConsoleSession(ctx, row); err != nil {
		return nil, err
	}
	// Sign-ins are rate limited, so they can afford to sweep expired rows.
	if _, err := c.deploy.PruneConsoleSessions(ctx, now); err != nil {
		c.log.Warn("console: prune expired sessions", "err", err)
	}
	c.writeSession(w, s)
	c.setCookie(w, preCookie, "", -1)
	return s, nil
}

// writeSession writes the session cookie.
func (c *Console) writeSession(w http.ResponseWriter, s *session) {
	payload, _ := json.Marshal(s)
	c.setCookie(w, c.cookieName(), c.sign(payload), int(time.Until(time.Unix(s.Exp, 0))/time.Second))
}

// tokenAEAD seals GitHub tokens at rest under a key derived from the
// console's session key; the session id is the associated data, so a
// sealed token moved to another row does not open.
func (c *Console) tokenAEAD() cipher.AEAD {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("flowgate console github tokens v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		panic("console: " + err.Error())
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("console: " + err.Error())
	}
	return aead
}

func (c *Console) sealToken(token, sid string) string {
	aead := c.tokenAEAD()
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("console: crypto/rand failed: " + err.Error())
	}
	return base64.RawStdEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(token), []byte(sid)))
}

func (c *Console) openToken(sealed, sid string) (string, bool) {
	b, err := base64.RawStdEncoding.DecodeString(sealed)
	aead := c.tokenAEAD()
	if err != nil || len(b) < aead.NonceSize() {
		return "", false
	}
	token, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte(sid))
	return string(token), err == nil
}

// csrfFor is the form token of a session (or of a sign-in attempt).
func (c *Console) csrfFor(scope, id string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("csrf\x00" + scope + "\x00" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func randomID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("console: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// sameOrigin refuses a cross-site post: browsers send Origin (or at least
// Sec-Fetch-Site) with every form post, and it must name this host.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true // non-browser clients; the CSRF token still has to match
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// checkForm parses a bounded form post and checks its CSRF token.
func (c *Console) checkForm(w http.ResponseWriter, r *http.Request, scope, id string) bool {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the form could not be read: "+err.Error(), http.StatusBadRequest)
		return false
	}
	want := c.csrfFor(scope, id)
	got := r.PostForm.Get("_csrf")
	if !sameOrigin(r) || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		http.Error(w, "this form is stale or came from another site (CSRF check failed): reload the page and try again", http.StatusForbidden)
		return false
	}
	return true
}

type pageFunc func(w http.ResponseWriter, r *http.Request, s *session)

// authed serves a page to a signed-in person: GETs without a session go to
// sign-in, posts need the session's CSRF token and write permission.
func (c *Console) authed(h pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := c.current(r)
		if s == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, Prefix+"signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		env := r.PathValue("env")
		if env != "" {
			if err := workflow.CheckEnvironment(env); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		if env != "" && !c.canSee(r.Context(), s, env) {
			// The same answer as for an environment that does not exist.
			c.render(w, r, http.StatusNotFound, "error", s, map[string]any{"Title": "Not Found",
				"Message": "No environment " + env + " that you can read."})
			return
		}
		if r.Method != http.MethodGet {
			if !c.checkForm(w, r, "session", s.ID) {
				return
			}
			if !c.canChange(r.Context(), s, env) {
				c.audit(r, s, "refused", env, r.URL.Path)
				c.render(w, r, http.StatusForbidden, "error", s, map[string]any{"Title": "Forbidden",
					"Message": "You can read " + env + " but changing it needs " + c.minPermission() + " permission on its repository."})
				return
			}
		}
		h(w, r, s)
	})
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	if c.current(r) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.renderSignIn(w, r, "", http.StatusOK)
}

func (c *Console) renderSignIn(w http.ResponseWriter, r *http.Request, problem string, status int) {
	pre := randomID()
	c.setCookie(w, preCookie, pre, 600)
	c.render(w, r, status, "signin", nil, map[string]any{
		"CSRF": c.csrfFor("signin", pre), "Next": safeNext(r.FormValue("next")), "Problem": problem,
		"GitHub": c.opts.GitHub != nil,
	})
}

var signInFailures = secrets.LimiterConfig{MaxFailures: 10, Window: 15 * time.Minute}

// signIn exchanges the admin token for a session.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	pre, err := r.Cookie(preCookie)
	if err != nil {
		http.Error(w, "the sign-in form has expired or cookies are off: reload the page", http.StatusForbidden)
		return
	}
	if !c.checkForm(w, r, "signin", pre.Value) {
		return
	}
	ip := secrets.AddressKey(r.RemoteAddr) // an IPv6 /64 counts as one address
	if !c.fails.Allow(ip) {
		c.renderSignIn(w, r, "Too many failed sign-ins from this address: wait 15 minutes.", http.StatusTooManyRequests)
		return
	}
	tok := strings.TrimSpace(r.PostForm.Get("token"))
	if c.opts.AdminToken == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(c.opts.AdminToken)) != 1 {
		c.fails.Fail(ip)
		c.log.Warn("console sign-in refused", "remote", ip)
		c.renderSignIn(w, r, "That is not the admin token.", http.StatusUnauthorized)
		return
	}
	c.fails.Success(ip)
	s, err := c.startSession(r.Context(), w, "admin", true, nil, "")
	if err != nil {
		c.log.Warn("console sign-in: store the session", "err", err)
		c.renderSignIn(w, r, "The session could not be stored: try again.", http.StatusServiceUnavailable)
		return
	}
	c.audit(r, s, "sign-in", "", "")
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	s := c.current(r)
	if s == nil {
		http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
		return
	}
	if !c.checkForm(w, r, "session", s.ID) {
		return
	}
	if err := c.deploy.RevokeConsoleSession(r.Context(), s.ID); err != nil {
		c.log.Warn("console sign-out: revoke the session", "err", err)
		http.Error(w, "the session could not be ended: try again", http.StatusServiceUnavailable)
		return
	}
	c.setCookie(w, c.cookieName(), "", -1)
	c.audit(r, s, "sign-out", "", "")
	http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
}

// safeNext keeps redirects after sign-in on the console's own pages.
func safeNext(next string) string {
	// No control characters: browsers drop tabs and line breaks from a
	// Location, so what is checked here would not be what they follow.
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return Prefix
	}
	return next
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// audit writes one line per action a person took.
func (c *Console) audit(r *http.Request, s *session, action, env, target string, attrs ...any) {
	args := append([]any{"actor", s.User, "via", "console", "action", action, "remote", clientIP(r)}, attrs...)
	if env != "" {
		args = append(args, "env", env)
	}
	if target != "" {
		args = append(args, "target", target)
	}
	c.log.Info("audit", args...)
}

func (c *Console) minPermission() string {
	if c.opts.GitHub == nil {
		return "admin"
	}
	return c.opts.GitHub.MinPermission
}
