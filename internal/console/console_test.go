package console

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/workflow"
)

// syncWriter lets the handlers' goroutines log into one builder.
type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func newTestLogger(b *strings.Builder) *slog.Logger {
	return slog.New(slog.NewTextHandler(&syncWriter{b: b}, nil))
}

func TestSignedOutPagesRedirectToSignIn(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	for _, p := range []string{"/console/", "/console/env/prod/", "/console/env/prod/logs", "/console/env/prod/variables"} {
		resp, _ := c.get(p)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/signin?next=") {
			t.Errorf("GET %s signed out: %d → %q, want 303 to sign-in", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	resp, _ := c.get("/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/" {
		t.Errorf("GET / = %d → %q, want 303 to /console/", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = c.do("POST", "/console/env/prod/workflows/claims/rollback", url.Values{})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("signed-out post: %d, want 401", resp.StatusCode)
	}
}

func TestSignIn(t *testing.T) {
	h := newHarness(t)
	t.Run("wrong token", func(t *testing.T) {
		c := h.client()
		resp, body := c.signIn("not-the-token")
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not the admin token") {
			t.Fatalf("wrong token: %d %s", resp.StatusCode, body)
		}
		if resp, _ := c.get("/console/"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("after a refused sign-in the console answers %d", resp.StatusCode)
		}
		if strings.Contains(h.logs.String(), "not-the-token") {
			t.Fatal("a tried token reached the log")
		}
	})
	t.Run("admin token", func(t *testing.T) {
		c := h.client()
		resp, _ := c.signIn(adminToken)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/" {
			t.Fatalf("sign-in: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		var ck *http.Cookie
		for _, k := range resp.Cookies() {
			if k.Name == "flowgate_session" {
				ck = k
			}
		}
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
			t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/", ck)
		}
		if strings.Contains(ck.Value, adminToken) {
			t.Fatal("the session cookie carries the admin token")
		}
		_, body := c.get("/console/")
		if !strings.Contains(body, `href="/console/env/prod/"`) || !strings.Contains(body, "acme/flows") {
			t.Fatalf("environments page:\n%s", body)
		}
		if !strings.Contains(h.logs.String(), "action=sign-in") {
			t.Fatalf("no audit line for the sign-in:\n%s", h.logs.String())
		}
	})
	t.Run("next stays on the console", func(t *testing.T) {
		for _, next := range []string{"https://evil.example/", "//evil.example/console/", "/console/\\evil", "/api/v1/x"} {
			if got := safeNext(next); got != Prefix {
				t.Errorf("safeNext(%q) = %q", next, got)
			}
		}
		if got := safeNext("/console/env/prod/logs?x=1"); got != "/console/env/prod/logs?x=1" {
			t.Errorf("safeNext kept %q", got)
		}
	})
}

func TestSecureCookies(t *testing.T) {
	h := newHarness(t)
	h.con.opts.Secure = true
	resp, _ := h.client().get("/console/signin")
	for _, k := range resp.Cookies() {
		if !k.Secure {
			t.Errorf("cookie %s is not Secure with Secure on", k.Name)
		}
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS with Secure on")
	}
	if h.con.cookieName() != "__Host-flowgate_session" {
		t.Errorf("session cookie %q: want the __Host- prefix over HTTPS", h.con.cookieName())
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	c.mustSignIn()
	for _, p := range []string{"/console/signin", "/console/", "/console/env/prod/charts", "/console/env/nope/"} {
		resp, _ := c.get(p)
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		for k, v := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
			"Referrer-Policy": "same-origin", "Cache-Control": "no-store"} {
			if resp.Header.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", p, k, resp.Header.Get(k), v)
			}
		}
	}
}

// TestCSRFRefused: a post without the session's token, with another
// session's token, or from another origin changes nothing.
func TestCSRFRefused(t *testing.T) {
	h := newHarness(t)
	victim, attacker := h.client(), h.client()
	victim.mustSignIn()
	attackerToken := attacker.mustSignIn()
	live := func() string {
		wf, err := h.deploy.Workflow(t.Context(), "prod", "claims")
		if err != nil {
			t.Fatal(err)
		}
		return wf.LiveDeploymentID
	}
	before := live()
	_, page := victim.get("/console/env/prod/workflows/claims")
	good := csrf(t, page)
	path := "/console/env/prod/workflows/claims/deployments/" + h.v1 + "/make-live"
	cases := []struct {
		name string
		form url.Values
		hdr  []string
	}{
		{"no token", url.Values{}, nil},
		{"empty token", url.Values{"_csrf": {""}}, nil},
		{"another session's token", url.Values{"_csrf": {attackerToken}}, nil},
		{"the sign-in form's token", url.Values{"_csrf": {h.con.csrfFor("signin", "x")}}, nil},
		{"cross-origin with the right token", url.Values{"_csrf": {good}}, []string{"Origin", "https://evil.example"}},
		{"cross-site fetch metadata", url.Values{"_csrf": {good}}, []string{"Sec-Fetch-Site", "cross-site"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := victim.do("POST", path, tc.form, tc.hdr...)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "CSRF") {
				t.Fatalf("%d %s, want 403 naming CSRF", resp.StatusCode, body)
			}
			if got := live(); got != before {
				t.Fatalf("live moved to %s", got)
			}
		})
	}
	resp, _ := victim.do("POST", path, url.Values{"_csrf": {good}}, "Origin", h.srv.URL)
	if resp.StatusCode != http.StatusSeeOther || live() != h.v1 {
		t.Fatalf("the genuine post: %d, live %s", resp.StatusCode, live())
	}
	// Sign-in itself needs its form token too (login CSRF).
	c := h.client()
	c.get("/console/signin")
	resp, _ = c.do("POST", "/console/signin", url.Values{"token": {adminToken}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in without its form token: %d", resp.StatusCode)
	}
}

// TestSessionFixation: a session cookie planted before sign-in is never
// the one signed in, and forged or tampered cookies are nobody.
func TestSessionFixation(t *testing.T) {
	h := newHarness(t)
	u, _ := url.Parse(h.srv.URL)
	c := h.client()
	planted := h.con.sign([]byte(`{"sid":"attacker-chosen","u":"admin","a":true,"e":1}`)) // expired
	forged := "eyJzaWQiOiJ4IiwidSI6ImFkbWluIiwiYSI6dHJ1ZSwiZSI6OTk5OTk5OTk5OX0.AAAA"
	for _, v := range []string{planted, forged, "garbage", strings.Repeat("a", 5000)} {
		c.jar.SetCookies(u, []*http.Cookie{{Name: "flowgate_session", Value: v, Path: "/"}})
		if resp, _ := c.get("/console/"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("cookie %.40q let the client in: %d", v, resp.StatusCode)
		}
	}
	// An attacker's own valid session planted on the victim is replaced at sign-in.
	attacker := h.client()
	attacker.mustSignIn()
	var theirs string
	for _, k := range attacker.jar.Cookies(u) {
		if k.Name == "flowgate_session" {
			theirs = k.Value
		}
	}
	victim := h.client()
	_, form := victim.get("/console/signin")
	victim.jar.SetCookies(u, []*http.Cookie{{Name: "flowgate_session", Value: theirs, Path: "/"}})
	resp, _ := victim.do("POST", "/console/signin", url.Values{"_csrf": {csrf(t, form)}, "token": {adminToken}})
	var mine string
	for _, k := range resp.Cookies() {
		if k.Name == "flowgate_session" {
			mine = k.Value
		}
	}
	if mine == "" || mine == theirs {
		t.Fatal("sign-in kept the planted session")
	}
	p1, _ := h.con.verify(mine)
	p2, _ := h.con.verify(theirs)
	if strings.Contains(string(p1), sid(t, p2)) {
		t.Fatal("the new session reuses the planted session id")
	}
	// Changing the admin token signs everyone out.
	other, err := New(Options{Deploy: h.deploy, Runner: h.con.opts.Runner, AdminToken: "another-token"})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest("GET", "/console/", nil)
	r.AddCookie(&http.Cookie{Name: "flowgate_session", Value: mine})
	if other.current(r) != nil {
		t.Fatal("a session survived a new admin token")
	}
	if h.con.current(r) == nil {
		t.Fatal("the fresh session is not accepted")
	}
}

func sid(t *testing.T, payload []byte) string {
	t.Helper()
	i := strings.Index(string(payload), `"sid":"`)
	if i < 0 {
		t.Fatalf("no sid in %s", payload)
	}
	rest := string(payload[i+7:])
	return rest[:strings.IndexByte(rest, '"')]
}

// TestLiveActions: make live, roll back, deactivate and delete through the
// forms move the pointer and record the person in the flips history.
func TestLiveActions(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	tok := c.mustSignIn()
	post := func(path string, form url.Values) (*http.Response, string) {
		form.Set("_csrf", tok)
		return c.do("POST", path, form)
	}
	live := func() string {
		wf, err := h.deploy.Workflow(t.Context(), "prod", "claims")
		if err != nil {
			t.Fatal(err)
		}
		return wf.LiveDeploymentID
	}
	if live() != h.v2 {
		t.Fatalf("live is %s, want v2 %s", live(), h.v2)
	}
	resp, _ := post("/console/env/prod/workflows/claims/deployments/"+h.v1+"/make-live", url.Values{})
	if resp.StatusCode != http.StatusSeeOther || live() != h.v1 {
		t.Fatalf("make-live: %d, live %s", resp.StatusCode, live())
	}
	_, page := c.get(resp.Header.Get("Location"))
	if !strings.Contains(page, "The deployment is live.") || !strings.Contains(page, "admin (console)") {
		t.Fatalf("workflow page after make-live lacks the notice or the actor:\n%s", page)
	}
	resp, _ = post("/console/env/prod/workflows/claims/deployments/"+h.v2+"/make-live", url.Values{})
	if live() != h.v2 {
		t.Fatalf("make v2 live: %d", resp.StatusCode)
	}
	resp, _ = post("/console/env/prod/workflows/claims/rollback", url.Values{})
	if resp.StatusCode != http.StatusSeeOther || live() != h.v1 {
		t.Fatalf("rollback: %d, live %s", resp.StatusCode, live())
	}
	resp, _ = post("/console/env/prod/workflows/claims/deactivate", url.Values{})
	if resp.StatusCode != http.StatusSeeOther || live() != "" {
		t.Fatalf("deactivate: %d, live %q", resp.StatusCode, live())
	}
	resp, body := post("/console/env/prod/workflows/claims/rollback", url.Values{})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "nothing live") {
		t.Fatalf("rollback with nothing live: %d %s", resp.StatusCode, body)
	}
	resp, _ = post("/console/env/prod/workflows/claims/delete", url.Values{"confirm": {"wrong"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("delete without confirmation: %d", resp.StatusCode)
	}
	resp, _ = post("/console/env/prod/workflows/claims/delete", url.Values{"confirm": {"claims"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if _, err := h.deploy.Workflow(t.Context(), "prod", "claims"); err == nil {
		t.Fatal("the workflow is still there after delete")
	}
	flips, err := h.deploy.Flips(t.Context(), "prod", "claims", 20)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, f := range flips {
		if f.Actor != "admin (console)" && f.Actor != "sync" {
			t.Errorf("flip %s by %q", f.Action, f.Actor)
		}
		actions = append(actions, f.Action)
	}
	if got := strings.Join(actions, ","); !strings.HasPrefix(got, "deactivate,rollback,make-live,make-live") {
		t.Errorf("flips newest first: %s", got)
	}
	for _, a := range []string{"make-live", "rollback", "deactivate", "delete-workflow"} {
		if !strings.Contains(h.logs.String(), "action="+a) {
			t.Errorf("no audit line for %s", a)
		}
	}
}

func TestVariablesSecretsAreWriteOnly(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	tok := c.mustSignIn()
	const secret = "sk_live_ZXhhbXBsZS1zZWNyZXQ"
	resp, _ := c.do("POST", "/console/env/prod/variables", url.Values{"_csrf": {tok}, "name": {"API_KEY"}, "value": {secret}, "secret": {"on"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("put secret: %d", resp.StatusCode)
	}
	c.do("POST", "/console/env/prod/variables", url.Values{"_csrf": {tok}, "name": {"PLAN"}, "value": {"gold"}})
	_, page := c.get("/console/env/prod/variables")
	if strings.Contains(page, secret) || !strings.Contains(page, "secret (write-only)") || !strings.Contains(page, "gold") {
		t.Fatalf("variables page:\n%s", page)
	}
	if strings.Contains(h.logs.String(), secret) {
		t.Fatal("the secret reached the log")
	}
	resp, body := c.do("POST", "/console/env/prod/variables", url.Values{"_csrf": {tok}, "name": {"bad name!"}, "value": {"x"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "only letters") {
		t.Fatalf("bad name: %d %s", resp.StatusCode, body)
	}
	resp, _ = c.do("POST", "/console/env/prod/variables/PLAN/delete", url.Values{"_csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if _, err := h.deploy.Variable(t.Context(), "prod", "PLAN"); err == nil {
		t.Fatal("PLAN still there")
	}
}

func TestTestPageRunsWithoutTouchingLive(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	tok := c.mustSignIn()
	if err := h.deploy.PutVariable(t.Context(), "prod", "API_KEY", "sk_test_do_not_show", true); err != nil {
		t.Fatal(err)
	}
	_, page := c.get("/console/env/prod/test?deployment=" + h.v1)
	if !strings.Contains(page, "user:tokens_generation") || !strings.Contains(page, "kp_0123") {
		t.Fatalf("no prefilled tokens event:\n%s", page)
	}
	event := EventTemplate("user:tokens_generation")
	resp, body := c.do("POST", "/console/env/prod/test", url.Values{"_csrf": {tok}, "deployment": {h.v1}, "event": {event}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="result-status">succeeded`) {
		t.Fatalf("run: %d\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, "&#34;version&#34;: &#34;v1&#34;") {
		t.Fatalf("the result is not v1's:\n%s", body)
	}
	if strings.Contains(body, "sk_test_do_not_show") || !strings.Contains(body, `<mark class="redacted"`) {
		t.Fatalf("the secret is not redacted as such:\n%s", body)
	}
	wf, _ := h.deploy.Workflow(t.Context(), "prod", "claims")
	if wf.LiveDeploymentID != h.v2 {
		t.Fatalf("a test run moved live to %s", wf.LiveDeploymentID)
	}
	rows, _ := h.deploy.RuntimeLogs(t.Context(), store.LogQuery{Env: "prod"})
	if len(rows) != 0 {
		t.Fatalf("a test run wrote %d runtime log rows", len(rows))
	}
	for name, tc := range map[string]struct{ dep, event, want string }{
		"bad JSON":           {h.v1, "{", "The event"},
		"not an object":      {h.v1, "[1]", "The event"},
		"unknown deployment": {"dep_nope", event, "No deployment"},
	} {
		resp, body := c.do("POST", "/console/env/prod/test", url.Values{"_csrf": {tok}, "deployment": {tc.dep}, "event": {tc.event}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, want 400 with %q", name, resp.StatusCode, tc.want)
		}
	}
}

func TestEventTemplatesEveryTrigger(t *testing.T) {
	for _, trig := range workflow.Triggers {
		ev := EventTemplate(trig)
		if !strings.Contains(ev, `"trigger": "`+trig+`"`) || !strings.Contains(ev, `"request"`) {
			t.Errorf("%s template:\n%s", trig, ev)
		}
	}
	if EventTemplate("nope") != "{}" {
		t.Error("unknown trigger template")
	}
}

func TestSyncDiagnosticsLinkToGitHub(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	c.mustSignIn()
	syncs, err := h.deploy.Syncs(t.Context(), "prod", 10)
	if err != nil || len(syncs) != 3 {
		t.Fatalf("syncs: %v %d", err, len(syncs))
	}
	failed := syncs[0]
	_, list := c.get("/console/env/prod/syncs")
	if !strings.Contains(list, "/console/env/prod/syncs/"+failed.ID) {
		t.Fatalf("sync list:\n%s", list)
	}
	_, page := c.get("/console/env/prod/syncs/" + failed.ID)
	var located bool
	for _, e := range failed.Log {
		if e.Line > 0 && e.File != "" {
			located = true
			link := "https://github.com/acme/flows/blob/3333333333333333333333333333333333333333/" + e.File + "#L"
			if !strings.Contains(page, link) {
				t.Errorf("diagnostic %s:%d not linked (want %s…):\n%s", e.File, e.Line, link, page)
			}
		}
	}
	if !located {
		t.Fatalf("the broken sync has no located diagnostic: %+v", failed.Log)
	}
	resp, _ := c.get("/console/env/prod/syncs/nope")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown sync: %d", resp.StatusCode)
	}
}

func TestRepoLinks(t *testing.T) {
	g := repo{Owner: "acme/flows"}
	for _, tc := range []struct {
		file string
		line int
		want string
	}{
		{"kindeSrc/a b.ts", 3, "https://github.com/acme/flows/blob/abc/kindeSrc/a%20b.ts#L3"},
		{"../etc/passwd", 1, ""},
		{"x.ts", 0, "https://github.com/acme/flows/blob/abc/x.ts"},
	} {
		if got := g.File("abc", tc.file, tc.line); got != tc.want {
			t.Errorf("File(%q, %d) = %q, want %q", tc.file, tc.line, got, tc.want)
		}
	}
	for _, bad := range []string{"acme", "acme/flows/x", "acme/../x", "javascript:alert(1)/x", "a/b c"} {
		if ownerName(bad) {
			t.Errorf("ownerName(%q) accepted", bad)
		}
	}
	if repoFromSource("dev:/tmp/x", g).Owner != "" {
		t.Error("a dev sync linked to GitHub")
	}
}

func TestRuntimeLogsFilters(t *testing.T) {
	h := newHarness(t)
	h.addRuntimeLogs(6, 4, time.Minute/2)
	c := h.client()
	c.mustSignIn()
	count := func(page, s string) int { return strings.Count(page, s) }
	_, all := c.get("/console/env/prod/logs")
	if n := count(all, `class="lvl-`); n != 20 {
		t.Fatalf("unfiltered: %d rows, want 20", n)
	}
	if !strings.Contains(all, `<mark class="redacted" title="redacted by Flowgate`) {
		t.Fatal("redaction not shown as such")
	}
	_, failed := c.get("/console/env/prod/logs?status=failed")
	if n := count(failed, `class="lvl-error outcome"`); n != 4 || count(failed, `class="lvl-`) != 4 {
		t.Fatalf("status=failed: %d rows", count(failed, `class="lvl-`))
	}
	_, timeout := c.get("/console/env/prod/logs?kind=timeout&workflow=claims&since=1h")
	if n := count(timeout, `class="lvl-`); n != 4 {
		t.Fatalf("kind=timeout: %d rows", n)
	}
	_, none := c.get("/console/env/prod/logs?kind=memory")
	if count(none, `class="lvl-`) != 0 {
		t.Fatal("kind=memory matched")
	}
	resp, _ := c.get("/console/env/prod/logs?kind=%25")
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("kind=%%: %d", resp.StatusCode)
	}
	_, one := c.get("/console/env/prod/logs?invocation=inv_0001")
	if count(one, `class="lvl-`) != 2 {
		t.Fatalf("one invocation: %d rows", count(one, `class="lvl-`))
	}
}

func TestLogsPaginate(t *testing.T) {
	h := newHarness(t)
	h.addRuntimeLogs(80, 0, time.Minute/2) // 160 rows
	c := h.client()
	c.mustSignIn()
	_, first := c.get("/console/env/prod/logs")
	i := strings.Index(first, `<a href="?`)
	if strings.Count(first, `class="lvl-`) != pageLogs || i < 0 {
		t.Fatalf("first page: %d rows, older link %v", strings.Count(first, `class="lvl-`), i >= 0)
	}
	rest := first[i+len(`<a href="`):]
	next := strings.ReplaceAll(rest[:strings.IndexByte(rest, '"')], "&amp;", "&")
	_, second := c.get("/console/env/prod/logs" + next)
	if n := strings.Count(second, `class="lvl-`); n != 60 {
		t.Fatalf("second page: %d rows, want 60", n)
	}
}

func TestChartsFromOutcomes(t *testing.T) {
	h := newHarness(t)
	h.addRuntimeLogs(6, 4, time.Minute/2)
	c := h.client()
	c.mustSignIn()
	_, page := c.get("/console/env/prod/charts?range=1h")
	for _, want := range []string{"<svg", `class="bar ok"`, `class="bar fail"`, "timeout: 4", `class="line p50"`, `class="line p99"`,
		"Duration of claims", "10 invocations"} {
		if !strings.Contains(page, want) {
			t.Errorf("charts page lacks %q", want)
		}
	}
	_, empty := c.get("/console/env/production/charts")
	if !strings.Contains(empty, "No data in this range.") {
		t.Error("empty charts page")
	}
}

func TestChartMath(t *testing.T) {
	hist := func(counts map[int]int) []int {
		h := make([]int, len(store.DurationClasses)+1)
		for c, n := range counts {
			h[c] = n
		}
		return h
	}
	for name, tc := range map[string]struct {
		h        []int
		p50, p99 float64
	}{
		"one class":    {hist(map[int]int{3: 10}), 0.75, 0.995},
		"fast and few": {hist(map[int]int{0: 90, 5: 10}), 0.1 * 50 / 90, 4.7},
		"past the end": {hist(map[int]int{len(store.DurationClasses): 1}), 30000, 30000},
		"empty":        {hist(nil), 0, 0},
	} {
		if got := histQuantile(tc.h, 0.5); math.Abs(got-tc.p50) > 1e-9 {
			t.Errorf("%s: p50 = %v, want %v", name, got, tc.p50)
		}
		if got := histQuantile(tc.h, 0.99); math.Abs(got-tc.p99) > 1e-9 {
			t.Errorf("%s: p99 = %v, want %v", name, got, tc.p99)
		}
	}
	for in, want := range map[float64]float64{0: 1, 3: 5, 7: 10, 12: 20, 0.3: 0.5} {
		if got := niceMax(in); got != want {
			t.Errorf("niceMax(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestKeysAndPreviewShownOnce(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	tok := c.mustSignIn()
	resp, body := c.do("POST", "/console/env/prod/workflows/claims/keys", url.Values{"_csrf": {tok}})
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, "Shown once") {
		t.Fatalf("create key: %d %s", resp.StatusCode, body)
	}
	keys, _ := h.deploy.EncryptionKeys(t.Context(), "prod", "claims")
	if len(keys) != 1 || !keys[0].Active {
		t.Fatalf("keys %+v", keys)
	}
	c.do("POST", "/console/env/prod/workflows/claims/keys", url.Values{"_csrf": {tok}})
	keys, _ = h.deploy.EncryptionKeys(t.Context(), "prod", "claims")
	var inactive string
	for _, k := range keys {
		if !k.Active {
			inactive = k.ID
		}
	}
	_, page := c.get("/console/env/prod/workflows/claims")
	if strings.Contains(page, `class="secret"`) {
		t.Fatal("the workflow page shows a key")
	}
	resp, _ = c.do("POST", "/console/env/prod/workflows/claims/keys/"+inactive+"/activate", url.Values{"_csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("activate: %d", resp.StatusCode)
	}
	resp, _ = c.do("POST", "/console/env/prod/workflows/claims/keys/"+keys[0].ID+"/delete", url.Values{"_csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusConflict {
		t.Fatalf("delete inactive: %d", resp.StatusCode)
	}
	resp, _ = c.do("POST", "/console/env/prod/workflows/claims/keys/"+inactive+"/delete", url.Values{"_csrf": {tok}})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("deleting the active key: %d, want 409", resp.StatusCode)
	}
	resp, _ = c.do("POST", "/console/env/prod/workflows/claims/keys/"+inactive+"/explode", url.Values{"_csrf": {tok}})
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown key op: %d", resp.StatusCode)
	}
	resp, body = c.do("POST", "/console/env/prod/deployments/"+h.v1+"/preview", url.Values{"_csrf": {tok}})
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, "X-Flowgate-Preview-Password") {
		t.Fatalf("preview: %d %s", resp.StatusCode, body)
	}
}

func TestPagesRender(t *testing.T) {
	h := newHarness(t)
	h.addRuntimeLogs(3, 1, time.Minute/2)
	c := h.client()
	c.mustSignIn()
	for _, p := range []string{"/console/", "/console/env/prod/", "/console/env/prod/workflows/claims",
		"/console/env/prod/deployments/" + h.v1, "/console/env/prod/syncs", "/console/env/prod/logs",
		"/console/env/prod/variables", "/console/env/prod/test", "/console/env/prod/charts", "/console/static/console.css"} {
		resp, body := c.get(p)
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}
	for p, want := range map[string]int{"/console/env/prod/workflows/nope": 404, "/console/env/bad%20name/": 400,
		"/console/env/prod/deployments/nope": 404, "/console/env/prod/logs?status=weird": 400} {
		if resp, _ := c.get(p); resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", p, resp.StatusCode, want)
		}
	}
}

// TestChartCache: counted once per TTL; a stale page is served while one
// background refresh counts the next.
func TestChartCache(t *testing.T) {
	refreshed := make(chan struct{}, 1)
	cc := chartCache{stored: func() { refreshed <- struct{}{} }}
	calls := 0
	compute := func(context.Context) (map[string]any, error) {
		calls++
		return map[string]any{"n": calls}, nil
	}
	t0 := time.Unix(1000, 0)
	get := func(at time.Duration) int {
		d, err := cc.get(t.Context(), "k", t0.Add(at), compute)
		if err != nil {
			t.Fatal(err)
		}
		return d["n"].(int)
	}
	if n := get(0); n != 1 {
		t.Fatalf("first: %d", n)
	}
	if n := get(chartTTL - time.Second); n != 1 || calls != 1 {
		t.Fatalf("within the TTL: %d, %d calls", n, calls)
	}
	if n := get(chartTTL); n != 1 {
		t.Fatalf("stale: served %d, want the stale page", n)
	}
	<-refreshed
	if n := get(chartTTL + time.Second); n != 2 || calls != 2 {
		t.Fatalf("after the refresh: %d, %d calls", n, calls)
	}
}

// TestChartCacheBounded: past maxChartEntries pages the one used longest
// ago is dropped (counted again when asked for); the others stay.
func TestChartCacheBounded(t *testing.T) {
	var cc chartCache
	counted := map[string]int{}
	get := func(key string) {
		if _, err := cc.get(t.Context(), key, time.Unix(1000, 0), func(context.Context) (map[string]any, error) {
			counted[key]++
			return map[string]any{}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range maxChartEntries {
		get(fmt.Sprint(i))
	}
	get("0") // "1" is now the least recently used
	get("new")
	get("0")
	get(fmt.Sprint(maxChartEntries - 1))
	get("1")
	for key, want := range map[string]int{"0": 1, fmt.Sprint(maxChartEntries - 1): 1, "new": 1, "1": 2} {
		if counted[key] != want {
			t.Errorf("page %s counted %d times, want %d", key, counted[key], want)
		}
	}
}
