// Package console is Flowgate's web console: server-rendered pages
// (html/template, no build step, no JavaScript needed) over the same
// domain calls the management API makes — internal/deploy for the
// deployment lifecycle, variables, keys and previews, internal/invoke for
// the Test page. It owns only what is about people: sessions, CSRF
// tokens, security headers, permissions and the audit line of each action.
package console

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/secrets"
)

// Prefix is where the console's pages live; "/" redirects here.
const Prefix = "/console/"

// MaxFormBytes bounds a posted form (the Test page's event is the largest).
const MaxFormBytes = 1<<20 + 64<<10

// Options configure the console. Deploy, Runner and AdminToken are required.
type Options struct {
	Deploy *deploy.Service
	Runner sandbox.Runner
	// AdminToken signs people in without GitHub, and keys the session
	// cookies when SessionKey is empty (so every replica given the same
	// token accepts the same sessions, and changing it signs everyone out).
	AdminToken string
	SessionKey []byte
	// GitHub, when set, offers sign-in with GitHub next to the admin token.
	GitHub *GitHubOAuth
	// Secure marks cookies Secure and sends HSTS: set it when people reach
	// the console over HTTPS (a https:// public URL).
	Secure bool
	// SessionTTL is how long a sign-in lasts (default 12 hours).
	SessionTTL time.Duration
	// AllowHosts are private HOST[:PORT]s kinde.fetch may reach on the Test page.
	AllowHosts []string
	// SyncAgain syncs an environment's last synced commit again (the
	// GitHub integration); nil hides the Syncs page's "Sync again" button.
	SyncAgain func(ctx context.Context, env string) (commit string, err error)
	Logger    *slog.Logger
	Now       func() time.Time
}

// Console is the console's http.Handler.
type Console struct {
	opts   Options
	deploy *deploy.Service
	log    *slog.Logger
	mux    *http.ServeMux
	pages  map[string]*template.Template
	key    []byte
	now    func() time.Time
	fails  *secrets.Limiter // failed sign-ins per address

	chartCache chartCache
}

//go:embed templates/*.html static/*
var assets embed.FS

// New builds the console.
func New(opts Options) (*Console, error) {
	if opts.Deploy == nil || opts.Runner == nil {
		return nil, errors.New("console: Deploy and Runner are required")
	}
	if opts.AdminToken == "" && len(opts.SessionKey) == 0 {
		return nil, errors.New("console: an admin token or a session key is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	key := opts.SessionKey
	if len(key) == 0 {
		m := hmac.New(sha256.New, []byte(opts.AdminToken))
		m.Write([]byte("flowgate console sessions v1"))
		key = m.Sum(nil)
	}
	if opts.GitHub != nil {
		g := *opts.GitHub
		if err := g.defaults(); err != nil {
			return nil, err
		}
		opts.GitHub = &g
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	c := &Console{opts: opts, deploy: opts.Deploy, log: opts.Logger, mux: http.NewServeMux(), pages: pages, key: key, now: opts.Now}
	cfg := signInFailures
	cfg.Now = opts.Now
	c.fails = secrets.NewLimiter(cfg)
	c.routes()
	return c, nil
}

// Routes are the ServeMux patterns to mount the console under.
func (c *Console) Routes() map[string]http.Handler {
	return map[string]http.Handler{"GET /{$}": c, Prefix: c}
}

func (c *Console) routes() {
	m := c.mux
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
	})
	m.Handle("GET "+Prefix+"static/", http.StripPrefix(Prefix, http.FileServerFS(assets)))
	m.HandleFunc("GET "+Prefix+"signin", c.signInPage)
	m.HandleFunc("POST "+Prefix+"signin", c.signIn)
	m.HandleFunc("POST "+Prefix+"signout", c.signOut)
	if c.opts.GitHub != nil {
		m.HandleFunc("GET "+githubStart, c.githubSignIn)
		m.HandleFunc("GET "+githubReturn, c.githubCallback)
	}

	const env = Prefix + "env/{env}"
	page := func(pattern string, h pageFunc) { m.Handle(pattern, c.authed(h)) }
	page("GET "+Prefix+"{$}", c.environments)
	page("GET "+env+"/{$}", c.workflows)
	page("GET "+env+"/workflows/{id}", c.workflow)
	page("POST "+env+"/workflows/{id}/deployments/{dep}/make-live", c.makeLive)
	page("POST "+env+"/workflows/{id}/rollback", c.rollback)
	page("POST "+env+"/workflows/{id}/deactivate", c.deactivate)
	page("POST "+env+"/workflows/{id}/delete", c.deleteWorkflow)
	page("POST "+env+"/workflows/{id}/keys", c.createKey)
	page("POST "+env+"/workflows/{id}/keys/{key}/{op}", c.keyOp)
	page("GET "+env+"/deployments/{dep}", c.deployment)
	page("POST "+env+"/deployments/{dep}/preview", c.preview)
	page("GET "+env+"/syncs", c.syncs)
	page("GET "+env+"/syncs/{sync}", c.sync)
	page("POST "+env+"/sync-again", c.syncAgain)
	page("GET "+env+"/logs", c.logs)
	page("GET "+env+"/variables", c.variables)
	page("POST "+env+"/variables", c.putVariable)
	page("POST "+env+"/variables/{name}/delete", c.deleteVariable)
	page("GET "+env+"/test", c.testPage)
	page("POST "+env+"/test", c.runTest)
	page("GET "+env+"/charts", c.charts)
	page("POST "+env+"/recording", c.putRecording)
	page("POST "+env+"/recordings/delete", c.deleteRecordings)
	page("GET "+env+"/recordings/export", c.exportRecordings)
}

// ServeHTTP sets the security headers every answer carries and serves.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// No scripts at all, styles and images from this origin only, forms
	// post only here, and no page may frame the console.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	if c.opts.Secure {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	if !strings.HasPrefix(r.URL.Path, Prefix+"static/") {
		h.Set("Cache-Control", "no-store")
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			c.log.Error("console panic", "path", r.URL.Path, "panic", v)
			http.Error(w, "internal error (logged)", http.StatusInternalServerError)
		}
	}()
	c.mux.ServeHTTP(w, r)
}
