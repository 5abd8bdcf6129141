package console

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/flowgate/flowgate/internal/testenv"
)

// The browser tests drive a real headless Chromium through the console by
// clicking and typing, and keep a screenshot of every page they visit in
// $FLOWGATE_TEST_ARTIFACTS/console (a temporary directory when unset).

func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Missing(t, "Chromium", "install it with `bash .ci/chromium.sh` (Debian's chromium package)")
	return ""
}

func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("FLOWGATE_TEST_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	shot string
	n    int
}

func newBrowser(t *testing.T, base string) *browser {
	path := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1280, 900), chromedp.Flag("lang", "en-US"))
	// A bound for a browser that hangs, not a timing assertion.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	return &browser{t: t, ctx: bctx, base: base, shot: artifactDir(t)}
}

func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		url, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.t.Fatalf("%s (at %s): %v", what, url, err)
	}
}

// get runs one action that reads a value.
func get[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		url, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.t.Fatalf("%s (at %s): %v", what, url, err)
	}
	return v
}

// screenshot keeps the whole page as <n>-<name>.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png := get(b, "screenshot "+name, chromedp.FullScreenshot(100))
	b.n++
	p := filepath.Join(b.shot, fmt.Sprintf("%02d-%s.png", b.n, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return get(b, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// checkLabels: every visible form control has a label or an accessible
// name, every button has a name, and the page has one h1 and a lang.
func (b *browser) checkLabels(page string) {
	b.t.Helper()
	problems := get(b, "label check", chromedp.Evaluate[[]string](`(() => {
	  const out = [];
	  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
	    if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label')) out.push('unlabelled ' + el.outerHTML.slice(0, 80));
	  }
	  for (const el of document.querySelectorAll('button')) {
	    if (!el.textContent.trim() && !el.getAttribute('aria-label')) out.push('nameless button ' + el.outerHTML.slice(0, 80));
	  }
	  if (document.querySelectorAll('h1').length !== 1) out.push('h1 count ' + document.querySelectorAll('h1').length);
	  if (!document.documentElement.lang) out.push('no lang');
	  return out;
	})()`))
	for _, p := range problems {
		b.t.Errorf("%s: %s", page, p)
	}
}

func TestBrowserConsole(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the browser test in -short mode")
	}
	h := newHarness(t)
	h.addRuntimeLogs(40, 7, 25*time.Minute)
	b := newBrowser(t, h.srv.URL)
	live := func() string {
		wf, err := h.deploy.Workflow(t.Context(), "prod", "claims")
		if err != nil {
			t.Fatal(err)
		}
		return wf.LiveDeploymentID
	}

	// Sign-in, by keyboard: the first Tab reaches the skip link, the token
	// field has focus, Enter submits.
	b.run("open", chromedp.Navigate(h.srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("#token")))
	b.checkLabels("sign-in")
	b.screenshot("signin")
	focused := get(b, "focus", chromedp.Evaluate[string](`document.activeElement.id`))
	if focused != "token" {
		t.Errorf("sign-in: focus starts on %q, want the token field", focused)
	}
	b.run("wrong token", chromedp.SendKeys(chromedp.ID("#token"), "wrong"+kb.Enter), chromedp.WaitVisible(chromedp.CSS(".problem")))
	b.screenshot("signin-refused")
	b.run("sign in", chromedp.SendKeys(chromedp.ID("#token"), adminToken+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/console/env/prod/"]`)))
	b.checkLabels("environments")
	b.run("skip link", chromedp.KeyEvent(kb.Tab))
	focused = get(b, "focus", chromedp.Evaluate[string](`document.activeElement.className`))
	if focused != "skip" {
		t.Errorf("the first Tab focuses %q, want the skip link", focused)
	}
	b.screenshot("environments")

	// Workflows → workflow, by clicking links.
	b.run("open prod", chromedp.Click(chromedp.CSS(`a[href="/console/env/prod/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/console/env/prod/workflows/claims"]`)))
	b.checkLabels("workflows")
	b.screenshot("workflows")
	b.run("open claims", chromedp.Click(chromedp.CSS(`a[href="/console/env/prod/workflows/claims"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/rollback"]`)))
	b.checkLabels("workflow")
	b.screenshot("workflow")

	// Make live and roll back by clicking.
	makeLive := func(dep string) string {
		return `form[action="/console/env/prod/workflows/claims/deployments/` + dep + `/make-live"] button`
	}
	b.run("make v1 live", chromedp.Click(chromedp.CSS(makeLive(h.v1))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if live() != h.v1 {
		t.Fatalf("after clicking Make live, live is %s, want %s", live(), h.v1)
	}
	if got := b.text(".notice"); !strings.Contains(got, "live") {
		t.Errorf("notice %q", got)
	}
	b.screenshot("made-live")
	b.run("make v2 live", chromedp.Click(chromedp.CSS(makeLive(h.v2))), chromedp.WaitVisible(chromedp.CSS(makeLive(h.v1))))
	if live() != h.v2 {
		t.Fatalf("live is %s, want %s", live(), h.v2)
	}
	b.run("roll back", chromedp.Click(chromedp.CSS(`form[action$="/rollback"] button`)),
		chromedp.WaitVisible(chromedp.CSS(makeLive(h.v2))))
	if live() != h.v1 {
		t.Fatalf("after clicking Roll back, live is %s, want %s", live(), h.v1)
	}
	if got := b.text(".notice"); !strings.Contains(got, "Rolled back") {
		t.Errorf("notice %q", got)
	}
	history := b.text(`table:nth-of-type(2) tbody`)
	if !strings.Contains(history, "rollback") || !strings.Contains(history, "admin (console)") {
		t.Errorf("the live history does not show the rollback by the console user:\n%s", history)
	}
	b.screenshot("rolled-back")

	// Deployment page (build log) and its sync.
	b.run("deployment", chromedp.Navigate(h.srv.URL+"/console/env/prod/deployments/"+h.v1), chromedp.WaitVisible(chromedp.CSS("h1")))
	b.checkLabels("deployment")
	b.screenshot("deployment")

	// Variables: type, tick "secret", submit with the keyboard.
	b.run("variables", chromedp.Click(chromedp.CSS(`nav a[href$="/variables"]`)), chromedp.WaitVisible(chromedp.ID("#name")))
	b.checkLabels("variables")
	b.run("set secret", chromedp.SendKeys(chromedp.ID("#name"), "API_KEY"), chromedp.SendKeys(chromedp.ID("#value"), "sk_browser_secret"),
		chromedp.Click(chromedp.ID("#secret")), chromedp.Submit(chromedp.ID("#name")), chromedp.WaitVisible(chromedp.CSS(".notice")))
	body := b.text("main")
	if !strings.Contains(body, "API_KEY") || !strings.Contains(body, "secret (write-only)") || strings.Contains(body, "sk_browser_secret") {
		t.Errorf("variables page after saving a secret:\n%s", body)
	}
	b.screenshot("variables")

	// The Test page: the event is prefilled; Run shows the Result; live stays.
	b.run("test page", chromedp.Click(chromedp.CSS(`nav a[href$="/test"]`)), chromedp.WaitVisible(chromedp.ID("#event")))
	b.checkLabels("test")
	event := get(b, "event", chromedp.Value(chromedp.ID("event")))
	if !strings.Contains(event, `"user:tokens_generation"`) {
		t.Errorf("the event is not prefilled for the trigger:\n%s", event)
	}
	b.run("run", chromedp.Click(chromedp.ID("#run")), chromedp.WaitVisible(chromedp.ID("#result-status")))
	if got := b.text("#result-status"); got != "succeeded" {
		t.Errorf("test run status %q\n%s", got, b.text("main"))
	}
	if got := b.text("#result-json"); !strings.Contains(got, `"version"`) {
		t.Errorf("result JSON:\n%s", got)
	}
	if out := b.text(".console"); strings.Contains(out, "sk_browser_secret") || !strings.Contains(out, "***") {
		t.Errorf("console output of the test run: %q", out)
	}
	if live() != h.v1 {
		t.Fatalf("the test run moved live to %s", live())
	}
	b.screenshot("test")

	// Charts: SVG drawn on the server, bars and lines present.
	b.run("charts", chromedp.Click(chromedp.CSS(`nav a[href$="/charts"]`)), chromedp.WaitVisible(chromedp.CSS("svg")))
	nodes := get(b, "bars", chromedp.Nodes(chromedp.CSSAll(`svg rect.bar`)))
	if len(nodes) < 3 {
		t.Errorf("%d bars drawn", len(nodes))
	}
	nodes = get(b, "lines", chromedp.Nodes(chromedp.CSSAll(`svg polyline.line`)))
	if len(nodes) != 2 {
		t.Errorf("%d latency lines, want p50 and p99", len(nodes))
	}
	b.checkLabels("charts")
	b.screenshot("charts")

	// Runtime logs with a filter chosen in the form.
	b.run("logs", chromedp.Click(chromedp.CSS(`nav a[href$="/logs"]`)), chromedp.WaitVisible(chromedp.ID("#f-status")))
	b.checkLabels("logs")
	b.screenshot("logs")
	b.run("filter", chromedp.SetValue(chromedp.ID("#f-status"), "failed"), chromedp.SetValue(chromedp.ID("#f-kind"), "timeout"),
		chromedp.Submit(chromedp.ID("#f-status")),
		// Only the filtered page marks the chosen option in its HTML.
		chromedp.WaitReady(chromedp.CSS(`#f-kind option[selected]`)))
	nodes = get(b, "rows", chromedp.Nodes(chromedp.CSSAll(`table.logs tbody tr.outcome`), chromedp.AtLeast(0)))
	if len(nodes) != 7 {
		t.Errorf("failed+timeout filter shows %d rows, want 7", len(nodes))
	}
	b.screenshot("logs-filtered")

	// Syncs, and the failed one's located diagnostics.
	b.run("syncs", chromedp.Click(chromedp.CSS(`nav a[href$="/syncs"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tbody a[href^="/console/env/prod/syncs/"]`)))
	b.screenshot("syncs")
	b.run("sync", chromedp.Click(chromedp.CSS(`tbody tr:first-child a[href^="/console/env/prod/syncs/"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.diags")))
	nodes = get(b, "diag links", chromedp.Nodes(chromedp.CSSAll(`table.diags a[href^="https://github.com/acme/flows/blob/"]`), chromedp.AtLeast(0)))
	if len(nodes) == 0 {
		t.Error("no diagnostic links to GitHub on the failed sync")
	}
	b.screenshot("sync")

	// Sign out: the console is closed again.
	b.run("sign out", chromedp.Click(chromedp.CSS(`.signout button`)), chromedp.WaitVisible(chromedp.ID("#token")))
	b.run("closed", chromedp.Navigate(h.srv.URL+"/console/env/prod/"), chromedp.WaitVisible(chromedp.ID("#token")))
	t.Logf("screenshots in %s", b.shot)
}

// TestBrowserGitHubSignIn: "Sign in with GitHub" through the local
// GitHub (githubtest) on 127.0.0.1 lands a writer on the console, named as such.
func TestBrowserGitHubSignIn(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the browser test in -short mode")
	}
	h, g := githubHarness(t)
	g.SignInAs("writer")
	b := newBrowser(t, h.srv.URL)
	b.n = 20
	b.run("open", chromedp.Navigate(h.srv.URL+"/console/"), chromedp.WaitVisible(chromedp.ID("github")))
	b.checkLabels("sign-in with GitHub")
	b.screenshot("signin-github")
	b.run("sign in with GitHub", chromedp.Click(chromedp.ID("github")), chromedp.WaitVisible(chromedp.CSS(`a[href="/console/env/prod/"]`)))
	if who := b.text(".signout strong"); who != "writer" {
		t.Errorf("signed in as %q, want writer", who)
	}
	if body := b.text("main"); strings.Contains(body, "production") {
		t.Errorf("the writer sees an environment without a readable repository:\n%s", body)
	}
	b.screenshot("environments-github")
}
