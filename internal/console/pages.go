package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/store"
)

// Page size bounds: every list is one indexed, LIMITed query.
const (
	pageDeployments = 50
	pageFlips       = 30
	pageSyncs       = 30
	pageLogs        = 100
)

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"short":    shortID,
		"when":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
		"redacted": redacted,
		"dict":     dict,
		"recorded": recorded,
		"ms":       func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) },
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("console: layout: %w", err)
	}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(assets, n)
		if err != nil {
			return nil, fmt.Errorf("console: page %s: %w", base, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// view is what every page's layout reads.
type view struct {
	Title  string
	User   string
	Admin  bool
	CSRF   string
	Env    string
	Tab    string
	Notice string
	Data   map[string]any
}

// render writes a page; a template error becomes a 500 before anything is sent.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, s *session, data map[string]any) {
	v := view{Title: page, Env: r.PathValue("env"), Data: data, Notice: notices[r.URL.Query().Get("done")]}
	if t, ok := data["Title"].(string); ok {
		v.Title = t
	}
	if t, ok := data["Tab"].(string); ok {
		v.Tab = t
	}
	if s != nil {
		// Admin says whether the page offers changes: the actions a person
		// may take in this environment.
		v.User, v.Admin, v.CSRF = s.User, c.canChange(r.Context(), s, v.Env), c.csrfFor("session", s.ID)
	}
	var buf bytes.Buffer
	if err := c.pages[page].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		c.log.Error("console render", "page", page, "err", err)
		http.Error(w, "internal error (logged)", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// notices are the fixed texts a redirect after an action may show (a
// code, not text from the URL, so a link cannot put words on the page).
var notices = map[string]string{
	"make-live":       "The deployment is live.",
	"rollback":        "Rolled back to the previous live deployment.",
	"deactivate":      "The workflow is deactivated: its trigger runs nothing now.",
	"delete":          "The workflow is deleted.",
	"variable":        "The variable is saved.",
	"variable-gone":   "The variable is deleted.",
	"key-activate":    "The key is active.",
	"key-deactivate":  "The key is inactive.",
	"key-delete":      "The key is deleted.",
	"sync-again":      "The last synced commit was synced again: its sync is at the top.",
	"recording":       "The recording settings are saved.",
	"recordings-gone": "Every recording of this environment is deleted.",
}

// fail shows a domain error as a page with a fitting status.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	status := http.StatusInternalServerError
	msg := "Something went wrong on the server (it is logged)."
	switch {
	case errors.Is(err, deploy.ErrNotFound):
		status, msg = http.StatusNotFound, err.Error()
	case errors.Is(err, deploy.ErrConflict):
		status, msg = http.StatusConflict, err.Error()
	case errors.Is(err, deploy.ErrInvalid):
		status, msg = http.StatusBadRequest, err.Error()
	case errors.Is(err, deploy.ErrRateLimited):
		status, msg = http.StatusTooManyRequests, err.Error()
	default:
		c.log.Error("console request failed", "path", r.URL.Path, "err", err)
	}
	c.render(w, r, status, "error", s, map[string]any{"Title": http.StatusText(status), "Message": msg})
}

func (c *Console) done(w http.ResponseWriter, r *http.Request, to, code string) {
	http.Redirect(w, r, to+"?done="+code, http.StatusSeeOther)
}

func envURL(env string) string { return Prefix + "env/" + url.PathEscape(env) + "/" }

func wfURL(env, id string) string { return envURL(env) + "workflows/" + url.PathEscape(id) }

// ---- environments and workflows ----

type envRow struct {
	store.Environment
	Source    store.Source
	HasSource bool
}

func (c *Console) environments(w http.ResponseWriter, r *http.Request, s *session) {
	envs, err := c.deploy.Environments(r.Context())
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	rows := make([]envRow, 0, len(envs))
	for _, e := range envs {
		if !c.canSee(r.Context(), s, e.Name) {
			continue
		}
		row := envRow{Environment: e}
		if src, err := c.deploy.SourceFor(r.Context(), e.Name); err == nil {
			row.Source, row.HasSource = src, true
		}
		rows = append(rows, row)
	}
	c.render(w, r, http.StatusOK, "environments", s, map[string]any{"Title": "Environments", "Environments": rows})
}

func (c *Console) workflows(w http.ResponseWriter, r *http.Request, s *session) {
	env := r.PathValue("env")
	e, err := c.deploy.Environment(r.Context(), env)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	wfs, err := c.deploy.Workflows(r.Context(), env)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.render(w, r, http.StatusOK, "workflows", s, map[string]any{"Title": "Workflows · " + env, "Tab": "workflows",
		"Environment": e, "Workflows": wfs, "Recording": c.recordingData(r, env)})
}

func (c *Console) workflow(w http.ResponseWriter, r *http.Request, s *session) {
	env, id := r.PathValue("env"), r.PathValue("id")
	wf, err := c.deploy.Workflow(r.Context(), env, id)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	deps, err := c.deploy.Deployments(r.Context(), env, id, pageDeployments)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	flips, err := c.deploy.Flips(r.Context(), env, id, pageFlips)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	keys, err := c.deploy.EncryptionKeys(r.Context(), env, id)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.render(w, r, http.StatusOK, "workflow", s, map[string]any{"Title": "Workflow " + id, "Tab": "workflows",
		"Workflow": wf, "Deployments": deps, "Flips": flips, "Keys": keys, "Repo": c.repoOf(r.Context(), env),
		"More": len(deps) == pageDeployments})
}

// ---- live pointer actions ----

func (c *Console) makeLive(w http.ResponseWriter, r *http.Request, s *session) {
	env, id, dep := r.PathValue("env"), r.PathValue("id"), r.PathValue("dep")
	if _, err := c.deploy.MakeLive(r.Context(), env, id, dep, s.Actor(reason(r))); err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.audit(r, s, "make-live", env, id, "deployment_id", dep)
	c.done(w, r, wfURL(env, id), "make-live")
}

func (c *Console) rollback(w http.ResponseWriter, r *http.Request, s *session) {
	env, id := r.PathValue("env"), r.PathValue("id")
	d, err := c.deploy.Rollback(r.Context(), env, id, s.Actor(reason(r)))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.audit(r, s, "rollback", env, id, "deployment_id", d.ID)
	c.done(w, r, wfURL(env, id), "rollback")
}

func (c *Console) deactivate(w http.ResponseWriter, r *http.Request, s *session) {
	env, id := r.PathValue("env"), r.PathValue("id")
	if err := c.deploy.Deactivate(r.Context(), env, id, s.Actor(reason(r))); err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.audit(r, s, "deactivate", env, id)
	c.done(w, r, wfURL(env, id), "deactivate")
}

func (c *Console) deleteWorkflow(w http.ResponseWriter, r *http.Request, s *session) {
	env, id := r.PathValue("env"), r.PathValue("id")
	if r.PostForm.Get("confirm") != id {
		c.fail(w, r, s, fmt.Errorf("type the workflow id %q to confirm the delete: %w", id, deploy.ErrInvalid))
		return
	}
	if err := c.deploy.DeleteWorkflow(r.Context(), env, id, s.Actor(reason(r))); err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.audit(r, s, "delete-workflow", env, id)
	c.done(w, r, envURL(env), "delete")
}

func reason(r *http.Request) string {
	v := strings.TrimSpace(r.PostForm.Get("reason"))
	if len(v) > 200 {
		v = v[:200]
	}
	return v
}

// ---- encryption keys ----

func (c *Console) createKey(w http.ResponseWriter, r *http.Request, s *session) {
	env, id := r.PathValue("env"), r.PathValue("id")
	info, key, err := c.deploy.CreateEncryptionKey(r.Context(), env, id)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.audit(r, s, "create-key", env, id, "key_id", info.ID)
	c.render(w, r, http.StatusCreated, "secret", s, map[string]any{"Title": "New encryption key", "Tab": "workflows",
		"What": "Encryption key " + info.ID + " for workflow " + id, "Secret": key, "Back": wfURL(env, id),
		"Note": "Shown once: Flowgate keeps only a sealed copy. Give it to the service that decrypts kinde.secureFetch bodies."})
}

func (c *Console) keyOp(w http.ResponseWriter, r *http.Request, s *session) {
	env, id, key, op := r.PathValue("env"), r.PathValue("id"), r.PathValue("key"), r.PathValue("op")
	ops := map[string]func(ctx context.Context, env, wf, id string) error{
		"activate": c.deploy.ActivateEncryptionKey, "deactivate": c.deploy.DeactivateEncryptionKey, "delete": c.deploy.DeleteEncryptionKey,
	}
	f, ok := ops[op]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if err := f(r.Context(), env, id, key); err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.audit(r, s, op+"-key", env, id, "key_id", key)
	c.done(w, r, wfURL(env, id), "key-"+op)
}

// ---- deployments, previews ----

func (c *Console) deployment(w http.ResponseWriter, r *http.Request, s *session) {
	env, dep := r.PathValue("env"), r.PathValue("dep")
	d, err := c.deploy.Deployment(r.Context(), env, dep)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	var build []store.SyncLogEntry
	var sy deploy.SyncRecord
	if d.SyncID != "" {
		if sy, err = c.deploy.SyncByID(r.Context(), env, d.SyncID); err == nil {
			for _, e := range sy.Log {
				if e.WorkflowID == "" || e.WorkflowID == d.WorkflowID {
					build = append(build, e)
				}
			}
		} else if !errors.Is(err, deploy.ErrNotFound) {
			c.fail(w, r, s, err)
			return
		}
	}
	c.render(w, r, http.StatusOK, "deployment", s, map[string]any{"Title": "Deployment " + dep, "Tab": "workflows",
		"D": d, "Build": build, "Sync": sy, "Repo": c.repoOf(r.Context(), env)})
}

func (c *Console) preview(w http.ResponseWriter, r *http.Request, s *session) {
	env, dep := r.PathValue("env"), r.PathValue("dep")
	pw, err := c.deploy.NewPreviewPassword(r.Context(), env, dep)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.audit(r, s, "preview-password", env, dep)
	c.render(w, r, http.StatusCreated, "secret", s, map[string]any{"Title": "Preview credentials", "Tab": "workflows",
		"What": "Preview password for deployment " + dep, "Secret": pw, "Back": envURL(env) + "deployments/" + url.PathEscape(dep),
		"Note": "Shown once; a new one replaces it. Call the trigger with ?deploy_id=" + dep + " and the X-Flowgate-Preview-Password header."})
}

// ---- syncs ----

func (c *Console) syncs(w http.ResponseWriter, r *http.Request, s *session) {
	env := r.PathValue("env")
	sy, err := c.deploy.Syncs(r.Context(), env, pageSyncs)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.render(w, r, http.StatusOK, "syncs", s, map[string]any{"Title": "Syncs · " + env, "Tab": "syncs", "Syncs": sy,
		"Repo": c.repoOf(r.Context(), env), "SyncAgain": c.opts.SyncAgain != nil})
}

// syncAgain is the Syncs page's "Sync again" button: the environment's
// last synced commit, synced again as it is (after deleting or
// deactivating a workflow, no new commit is needed).
func (c *Console) syncAgain(w http.ResponseWriter, r *http.Request, s *session) {
	env := r.PathValue("env")
	if c.opts.SyncAgain == nil {
		c.fail(w, r, s, fmt.Errorf("syncing again needs the GitHub integration: %w", deploy.ErrNotFound))
		return
	}
	if _, err := c.opts.SyncAgain(r.Context(), env); err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.audit(r, s, "sync-again", env, "")
	c.done(w, r, envURL(env)+"syncs", "sync-again")
}

func (c *Console) sync(w http.ResponseWriter, r *http.Request, s *session) {
	env := r.PathValue("env")
	sy, err := c.deploy.SyncByID(r.Context(), env, r.PathValue("sync"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.render(w, r, http.StatusOK, "sync", s, map[string]any{"Title": "Sync " + sy.ID, "Tab": "syncs", "Sync": sy,
		"Repo": repoFromSource(sy.Source, c.repoOf(r.Context(), env))})
}

// repo says where a commit's files are on GitHub, when they are.
type repo struct{ Owner string } // "owner/name"; "" when not on GitHub

func (g repo) Commit(sha string) string {
	if g.Owner == "" || sha == "" {
		return ""
	}
	return "https://github.com/" + g.Owner + "/commit/" + url.PathEscape(sha)
}

// File links a diagnostic to its line in the commit's file.
func (g repo) File(sha, file string, line int) string {
	if g.Owner == "" || sha == "" || file == "" || strings.Contains(file, "..") {
		return ""
	}
	parts := strings.Split(strings.TrimPrefix(file, "/"), "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	u := "https://github.com/" + g.Owner + "/blob/" + url.PathEscape(sha) + "/" + strings.Join(parts, "/")
	if line > 0 {
		u += "#L" + strconv.Itoa(line)
	}
	return u
}

func (c *Console) repoOf(ctx context.Context, env string) repo {
	src, err := c.deploy.SourceFor(ctx, env)
	if err != nil || src.Kind != "github" || !ownerName(src.Ref) {
		return repo{}
	}
	return repo{Owner: src.Ref}
}

// repoFromSource reads "github:owner/name" from a sync's record.
func repoFromSource(source string, fallback repo) repo {
	if ref, ok := strings.CutPrefix(source, "github:"); ok && ownerName(ref) {
		return repo{Owner: ref}
	}
	if source != "" && !strings.HasPrefix(source, "github") {
		return repo{}
	}
	return fallback
}

func ownerName(s string) bool {
	owner, name, ok := strings.Cut(s, "/")
	if !ok || owner == "" || name == "" || len(s) > 200 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./", r)) {
			return false
		}
	}
	return !strings.Contains(s, "..") && strings.Count(s, "/") == 1
}

// ---- runtime logs ----

func (c *Console) logs(w http.ResponseWriter, r *http.Request, s *session) {
	env, q := r.PathValue("env"), r.URL.Query()
	lq := store.OutcomeQuery{Env: env, WorkflowID: q.Get("workflow"), Status: q.Get("status"), Kind: q.Get("kind"), Limit: pageLogs}
	if lq.Kind != "" && !knownKind(lq.Kind) {
		c.fail(w, r, s, fmt.Errorf("unknown error kind %q: %w", lq.Kind, deploy.ErrInvalid))
		return
	}
	if lq.Status != "" && !knownStatus(lq.Status) {
		c.fail(w, r, s, fmt.Errorf("unknown status %q: %w", lq.Status, deploy.ErrInvalid))
		return
	}
	if d, ok := sinceChoices[q.Get("since")]; ok && d > 0 {
		lq.Since = c.now().Add(-d)
	}
	if at, seq, ok := parseCursor(q.Get("before")); ok {
		lq.BeforeAt, lq.BeforeSeq = at, seq
	}
	var rows []store.RuntimeLog
	var err error
	if inv := q.Get("invocation"); inv != "" {
		rows, err = c.deploy.RuntimeLogs(r.Context(), store.LogQuery{Env: env, InvocationID: inv, Limit: pageLogs})
	} else {
		rows, err = c.deploy.ConsoleLogs(r.Context(), lq)
	}
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	wfs, err := c.deploy.Workflows(r.Context(), env)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	var older string
	if len(rows) == pageLogs {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		last := rows[len(rows)-1]
		next.Set("before", strconv.FormatInt(last.At.UnixMicro(), 10)+"-"+strconv.FormatInt(last.Seq, 10))
		older = "?" + next.Encode()
	}
	c.render(w, r, http.StatusOK, "logs", s, map[string]any{"Title": "Runtime logs · " + env, "Tab": "logs",
		"Rows": rows, "Workflows": wfs, "Q": q, "Kinds": errorKinds, "Statuses": statuses, "Since": sinceOrder, "Older": older})
}

var (
	errorKinds = []string{"thrown", "timeout", "memory", "call-depth", "result-too-large", "binding", "load", "sandbox-crashed"}
	statuses   = []string{"succeeded", "failed"}
	sinceOrder = []string{"1h", "24h", "7d"}
	// sinceChoices maps the time filter's values to how far back they reach.
	sinceChoices = map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour}
)

func knownKind(k string) bool {
	for _, v := range errorKinds {
		if v == k {
			return true
		}
	}
	return false
}

func knownStatus(st string) bool {
	for _, v := range statuses {
		if v == st {
			return true
		}
	}
	return false
}

// ---- variables ----

func (c *Console) variables(w http.ResponseWriter, r *http.Request, s *session) {
	env := r.PathValue("env")
	vs, err := c.deploy.Variables(r.Context(), env)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.render(w, r, http.StatusOK, "variables", s, map[string]any{"Title": "Variables · " + env, "Tab": "variables", "Variables": vs})
}

func (c *Console) putVariable(w http.ResponseWriter, r *http.Request, s *session) {
	env, name := r.PathValue("env"), strings.TrimSpace(r.PostForm.Get("name"))
	secret := r.PostForm.Get("secret") == "on"
	if err := c.deploy.PutVariable(r.Context(), env, name, r.PostForm.Get("value"), secret); err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.audit(r, s, "put-variable", env, name, "secret", secret)
	c.done(w, r, envURL(env)+"variables", "variable")
}

func (c *Console) deleteVariable(w http.ResponseWriter, r *http.Request, s *session) {
	env, name := r.PathValue("env"), r.PathValue("name")
	if err := c.deploy.DeleteVariable(r.Context(), env, name); err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.audit(r, s, "delete-variable", env, name)
	c.done(w, r, envURL(env)+"variables", "variable-gone")
}

// ---- helpers for templates ----

func shortID(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// redacted shows the redaction mark as such: a log line keeps its text,
// and every "***" the bindings put in place of a secret is marked.
func redacted(msg string) template.HTML {
	const mark = "***"
	parts := strings.Split(msg, mark)
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteString(`<mark class="redacted" title="redacted by Flowgate: a secret or password was here">` + mark + `</mark>`)
		}
		b.WriteString(template.HTMLEscapeString(p))
	}
	return template.HTML(b.String())
}

// dict builds a map for a sub-template from key, value pairs.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, errors.New("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, errors.New("dict: keys are strings")
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// parseCursor reads the logs page's "before" cursor: <at µs>-<seq>.
func parseCursor(v string) (time.Time, int64, bool) {
	a, b, ok := strings.Cut(v, "-")
	if !ok {
		return time.Time{}, 0, false
	}
	at, err1 := strconv.ParseInt(a, 10, 64)
	seq, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || at <= 0 || seq <= 0 {
		return time.Time{}, 0, false
	}
	return time.UnixMicro(at).UTC(), seq, true
}
