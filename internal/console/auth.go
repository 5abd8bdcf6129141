package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Sessions are signed cookies (HMAC-SHA256 under the console's key), so
// any replica with the same key accepts them and nothing is stored. A
// sign-in always mints a new session id, whatever cookie came with it (no
// fixation), and every form carries a token derived from that id (CSRF).

// session is who is signed in.
type session struct {
	ID    string `json:"sid"`
	User  string `json:"u"`
	Admin bool   `json:"a,omitempty"` // signed in with the admin token: every permission
	Exp   int64  `json:"e"`           // Unix seconds
	// Perms maps environment -> the GitHub role on its repository and a
	// tag of that repository's name ("write@<tag>", see repoTag)
	// (read … admin), for people signed in with GitHub.
	Perms map[string]string `json:"p,omitempty"`
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

// current reads the signed-in session, or nil.
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
	if json.Unmarshal(payload, &s) != nil || s.ID == "" || s.User == "" || c.now().Unix() >= s.Exp {
		return nil
	}
	return &s
}

func (c *Console) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: c.opts.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// startSession signs a person in with a fresh session id.
func (c *Console) startSession(w http.ResponseWriter, user string, admin bool, perms map[string]string) *session {
	s := &session{ID: randomID(), User: user, Admin: admin, Perms: perms, Exp: c.now().Add(c.opts.SessionTTL).Unix()}
	c.writeSession(w, s)
	c.setCookie(w, preCookie, "", -1)
	return s
}

// writeSession writes the session cookie.
func (c *Console) writeSession(w http.ResponseWriter, s *session) {
	payload, _ := json.Marshal(s)
	c.setCookie(w, c.cookieName(), c.sign(payload), int(time.Until(time.Unix(s.Exp, 0))/time.Second))
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
	s := c.startSession(w, "admin", true, nil)
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
