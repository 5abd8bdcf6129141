package project

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/testenv"
)

const wfDir = "kindeSrc/environment/workflows/"

// check runs Check on a copy of the fixture repository testdata/repos/name.
func check(t *testing.T, name string, withModules bool) *Report {
	t.Helper()
	dir := testenv.CopyRepo(t, filepath.Join("testdata", "repos", name), withModules)
	r, err := Check(context.Background(), dir, Options{SettingsTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return r
}

// brief renders diagnostics as "severity rule file:line:col".
func brief(ds []diag.Diagnostic) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%s %s %s:%d:%d", d.Severity, d.Rule, d.File, d.Line, d.Column))
	}
	return out
}

// TestRules has one fixture repository per rule, with the exact
// diagnostics it must produce and words their messages must contain.
func TestRules(t *testing.T) {
	cases := []struct {
		repo    string
		modules bool // link the real @kinde/infrastructure into node_modules
		want    []string
		words   []string // each must appear in some message
	}{
		{repo: "docs-layout", modules: true, want: []string{}},
		{repo: "missing-kinde-json", want: []string{"error missing-kinde-json kinde.json:1:1"}, words: []string{`"version": "2024-12-09"`}},
		{repo: "invalid-kinde-json", want: []string{"error invalid-kinde-json kinde.json:4:1"}, words: []string{"invalid character '}'"}},
		{repo: "kinde-json-comment", want: []string{"error invalid-kinde-json kinde.json:2:25"}, words: []string{"does not allow comments"}},
		{repo: "missing-version", want: []string{"error invalid-kinde-json kinde.json:1:1"}, words: []string{`no "version"`}},
		{repo: "rootdir-outside", want: []string{"error invalid-kinde-json kinde.json:3:14"}, words: []string{"leads outside the repository"}},
		{repo: "no-workflows", want: []string{
			"error no-workflows kinde.json:2:3",
			"warning not-a-workflow-file " + wfDir + "blockDisposableEmails.ts:1:14",
		}, words: []string{`ends in "Workflow"`, "rename it to blockDisposableEmailsWorkflow.ts"}},
		{repo: "no-workflows-dir", want: []string{"error no-workflows kinde.json:1:27"}, words: []string{"workflows/environment/workflows does not exist"}},
		{repo: "unknown-trigger-enum", modules: true,
			want:  []string{"error unknown-trigger " + wfDir + "denyPlanCancellationWorkflow.ts:5:3"},
			words: []string{"trigger is undefined — is WorkflowTrigger.UserPlanCancellationRequest misspelt?", "WorkflowTrigger.PlanCancellationRequest"}},
		{repo: "unknown-trigger-string", want: []string{"error unknown-trigger " + wfDir + "tokensWorkflow.js:3:3"}, words: []string{`did you mean "user:tokens_generation"`}},
		{repo: "duplicate-trigger", want: []string{
			"error duplicate-trigger " + wfDir + "aWorkflow.ts:3:3",
			"error duplicate-trigger " + wfDir + "bWorkflow.ts:3:3",
			"error duplicate-trigger " + wfDir + "cWorkflow.ts:3:3",
		}, words: []string{"also used by " + wfDir + "bWorkflow.ts, " + wfDir + "cWorkflow.ts"}},
		{repo: "duplicate-id", want: []string{
			"error duplicate-id " + wfDir + "oneWorkflow.ts:3:3",
			"error duplicate-id " + wfDir + "twoWorkflow.ts:3:3",
		}, words: []string{`workflow id "same" is also used by ` + wfDir + "twoWorkflow.ts"}},
		{repo: "missing-output-bundle", want: []string{"error missing-output-bundle " + wfDir + "emptyWorkflow.ts:1:1"}},
		{repo: "missing-settings", want: []string{"error missing-settings " + wfDir + "noSettingsWorkflow.ts:1:1"}, words: []string{"export const workflowSettings"}},
		{repo: "missing-id", want: []string{"error missing-id " + wfDir + "noIdWorkflow.ts:1:14"}},
		{repo: "invalid-id", want: []string{"error invalid-id " + wfDir + "badIdWorkflow.ts:3:3"}},
		{repo: "missing-trigger", want: []string{"error missing-trigger " + wfDir + "noTriggerWorkflow.ts:1:14"}},
		{repo: "missing-default-export", want: []string{"error missing-default-export " + wfDir + "noDefaultWorkflow.ts:1:1"}, words: []string{"no default export"}},
		{repo: "default-not-function", want: []string{"error missing-default-export " + wfDir + "objectWorkflow.ts:3:1"}, words: []string{"without a handle method"}},
		{repo: "unknown-binding", want: []string{
			"error unknown-binding " + wfDir + "envWorkflow.ts:5:5",
			"warning unknown-binding " + wfDir + "envWorkflow.ts:6:5",
		}, words: []string{`did you mean "kinde.env"`, `kinde.cache exists when kinde.fetch or kinde.secureFetch is declared. Declare "kinde.fetch": {} instead`}},
		// Issue 18.2: a binding the trigger lacks is a warning (it is
		// undefined when the workflow runs), as Kinde deploys such code.
		{repo: "binding-not-allowed", want: []string{"warning binding-not-allowed " + wfDir + "m2mWorkflow.ts:6:5"}, words: []string{`"kinde.accessToken" is not available to m2m:token_generation workflows: kinde.accessToken will be undefined when it runs`}},
		{repo: "build-error-unresolved", modules: true, want: []string{
			"error build-error " + wfDir + "lodashWorkflow.ts:2:23",
			"error build-error " + wfDir + "lodashWorkflow.ts:3:24",
		}, words: []string{"npm install lodash-es", `cannot resolve "./missing/helper"`}},
		{repo: "build-error-syntax", want: []string{"error build-error " + wfDir + "syntaxWorkflow.ts:4:14"}},
		{repo: "build-error-tla", want: []string{"error build-error " + wfDir + "awaitWorkflow.ts:1:16"}, words: []string{"top-level await"}},
		{repo: "node-builtin", want: []string{"error build-error " + wfDir + "fsWorkflow.ts:1:30"}, words: []string{"Node.js built-in"}},
		{repo: "top-level-error", want: []string{"error top-level-error " + wfDir + "lib/greeting.ts:4:9"}, words: []string{"TypeError: Cannot read property 'get'"}},
		{repo: "top-level-loop", want: []string{"error top-level-error " + wfDir + "loopWorkflow.js:1:14"}, words: []string{"ran longer than 500ms"}},
		{repo: "top-level-bomb", want: []string{"error top-level-error " + wfDir + "bombWorkflow.ts:2:47"}, words: []string{"memory limit exceeded"}},
		{repo: "invalid-failure-policy", want: []string{"warning invalid-failure-policy " + wfDir + "policyWorkflow.ts:4:3"}},
		{repo: "undeclared-binding", modules: true, want: []string{
			"warning undeclared-binding " + wfDir + "audit.ts:2:3",
			"warning undeclared-binding " + wfDir + "claimsWorkflow.ts:18:17",
			"warning undeclared-binding " + wfDir + "claimsWorkflow.ts:19:3",
			"warning undeclared-binding " + wfDir + "claimsWorkflow.ts:20:3",
		}, words: []string{"getEnvironmentVariable() uses the kinde.env binding", "kinde.mfa is not available to user:tokens_generation", "the workflow claimsWorkflow.ts does not declare it"}},
		{repo: "not-a-workflow-file", want: []string{
			"warning not-a-workflow-file " + wfDir + "denyPlanCancellation.js:1:9",
			"warning not-a-workflow-file " + wfDir + "preUserRegistration/blockDisposableEmails.ts:6:14",
		}, words: []string{"rename it to denyPlanCancellationWorkflow.js", "rename it to blockDisposableEmailsWorkflow.ts"}},
		{repo: "only-misnamed", want: []string{
			"error no-workflows kinde.json:2:3",
			"warning not-a-workflow-file " + wfDir + "addBillingDetails.ts:3:10",
		}, words: []string{"rename it to addBillingDetailsWorkflow.ts"}},
		{repo: "undefined-name", modules: true, want: []string{
			"warning undefined-name " + wfDir + "dripFeedWorkflow.ts:17:23",
			"warning undefined-name " + wfDir + "gracePeriodWorkflow.ts:18:59",
			"warning undefined-name " + wfDir + "ipCheckWorkflow.ts:10:21",
			"warning undefined-name " + wfDir + "ipCheckWorkflow.ts:12:3",
			"warning undefined-name " + wfDir + "lib/grace.ts:2:17",
		}, words: []string{
			`createKindeAPI is not imported (this line throws ReferenceError when it runs): add it to the import from "@kinde/infrastructure"`,
			"fetch is not defined in the workflow sandbox (this line throws ReferenceError when it runs): call kinde.fetch",
			"MFAPolicy is only a TypeScript type or declaration here",
			": did you mean console?",
			"hours is neither declared, imported nor a sandbox global",
		}},
		{repo: "examples-clean", modules: true, want: []string{}},
	}
	for _, c := range cases {
		t.Run(c.repo, func(t *testing.T) {
			r := check(t, c.repo, c.modules)
			if got := brief(r.Diagnostics); !slices.Equal(got, c.want) {
				t.Fatalf("diagnostics:\n%s\nwant:\n%s\nmessages:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"), messages(r.Diagnostics))
			}
			for _, w := range c.words {
				if !strings.Contains(messages(r.Diagnostics), w) {
					t.Errorf("no message contains %q:\n%s", w, messages(r.Diagnostics))
				}
			}
			if wantOK := !slices.ContainsFunc(c.want, func(s string) bool { return strings.HasPrefix(s, "error") }); r.OK() != wantOK {
				t.Errorf("OK() = %v, want %v", r.OK(), wantOK)
			}
		})
	}
}

func messages(ds []diag.Diagnostic) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Message + "\n")
	}
	return b.String()
}

// TestWorkflowsFound checks discovery and the settings read, per layout.
func TestWorkflowsFound(t *testing.T) {
	cases := []struct {
		repo    string
		modules bool
		want    []string // file id trigger bindings
	}{
		{"docs-layout", true, []string{wfDir + "Workflow.ts postAuthentication user:post_authentication []"}},
		{"custom-rootdir", false, []string{"src/kinde/environment/workflows/tokens/userTokensWorkflow.ts userTokens user:tokens_generation [kinde.accessToken]"}},
		{"tsx-jsx", false, []string{
			wfDir + "PreauthorizationWorkflow.jsx preauth user:pre_registration []",
			wfDir + "m2mWorkflow.tsx m2m m2m:token_generation []",
		}},
		{"valid-10", true, []string{
			wfDir + "billing/planCancellationWorkflow.ts planCancellation user:plan_cancellation_request [kinde.plan]",
			wfDir + "billing/planSelectionWorkflow.ts planSelection user:plan_selection [kinde.plan]",
			wfDir + "m2mWorkflow.ts m2mClaims m2m:token_generation [kinde.m2mToken]",
			wfDir + "password/NewPasswordWorkflow.tsx newPassword user:new_password_provided [kinde.widget]",
			wfDir + "password/existingPasswordWorkflow.ts checkPassword user:existing_password_provided [kinde.widget]",
			wfDir + "postAuthWorkflow.ts checkSignIn user:post_authentication [kinde.auth]",
			wfDir + "preMfaWorkflow.ts requireMfa user:pre_mfa [kinde.mfa]",
			wfDir + "preRegistrationWorkflow.ts preRegistration user:pre_registration [kinde.auth kinde.env kinde.fetch url]",
			wfDir + "tokensWorkflow.ts enrichTokens user:tokens_generation [kinde.accessToken kinde.env kinde.idToken]",
			wfDir + "usernameWorkflow.js username user:new_username_provided [console kinde.widget]",
		}},
	}
	for _, c := range cases {
		t.Run(c.repo, func(t *testing.T) {
			r := check(t, c.repo, c.modules)
			if !r.OK() || len(r.Diagnostics) != 0 {
				t.Fatalf("diagnostics: %v", brief(r.Diagnostics))
			}
			var got []string
			for _, w := range r.Workflows {
				got = append(got, fmt.Sprintf("%s %s %s %v", w.File, w.Settings.ID, w.Settings.Trigger, w.BindingNames()))
				if !w.Valid() || w.Bundle == nil || len(w.Bundle.SHA256) != 64 {
					t.Errorf("%s: Valid=%v bundle=%v", w.File, w.Valid(), w.Bundle != nil)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("workflows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestSettingsDetails(t *testing.T) {
	r := check(t, "custom-rootdir", false)
	s := r.Workflows[0].Settings
	if !s.Bindings["kinde.accessToken"].ResetClaims {
		t.Errorf("resetClaims not read: %+v", s.Bindings)
	}
	if !r.Config.NPM || r.Config.RootDir != "src/kinde" || r.Config.Version != "2024-12-09" {
		t.Errorf("config = %+v", r.Config)
	}
	r = check(t, "docs-layout", true)
	if s := r.Workflows[0].Settings; s.Name != "Workflow 1" || s.Policy() != "stop" || s.FailurePolicy.Action != "stop" {
		t.Errorf("settings = %+v", s)
	}
}

// TestLinks checks that links leading outside the repository are refused,
// links inside it are followed, and node_modules is skipped.
func TestLinks(t *testing.T) {
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "secretWorkflow.ts"), "export default async () => {};")
	repo := t.TempDir()
	writeFile(t, filepath.Join(repo, "kinde.json"), `{"version": "2024-12-09"}`)
	wf := filepath.Join(repo, filepath.FromSlash(wfDir))
	writeFile(t, filepath.Join(repo, "shared", "sharedWorkflow.ts"),
		`export const workflowSettings = {id: "shared", trigger: "user:pre_mfa"}; export default async () => {};`)
	writeFile(t, filepath.Join(wf, "node_modules", "pkgWorkflow.ts"), "not even JavaScript (")
	for link, target := range map[string]string{
		"fileWorkflow.ts": filepath.Join(outside, "secretWorkflow.ts"),
		"outsideDir":      outside,
		"insideDir":       filepath.Join(repo, "shared"),
		"loop":            wf,
	} {
		if err := os.Symlink(target, filepath.Join(wf, link)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Check(context.Background(), repo, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"error link-outside-repo " + wfDir + "fileWorkflow.ts:1:1",
		"error link-outside-repo " + wfDir + "outsideDir:1:1",
	}
	if got := brief(r.Diagnostics); !slices.Equal(got, want) {
		t.Fatalf("diagnostics %v\nwant %v\n%s", got, want, messages(r.Diagnostics))
	}
	if len(r.Workflows) != 1 || r.Workflows[0].File != wfDir+"insideDir/sharedWorkflow.ts" || r.Workflows[0].Settings.ID != "shared" {
		t.Fatalf("workflows = %+v", r.Workflows)
	}

	// A rootDir that is itself a link out of the repository.
	repo2 := t.TempDir()
	writeFile(t, filepath.Join(repo2, "kinde.json"), `{"version": "2024-12-09", "rootDir": "src"}`)
	if err := os.Symlink(outside, filepath.Join(repo2, "src")); err != nil {
		t.Fatal(err)
	}
	r, err = Check(context.Background(), repo2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := brief(r.Diagnostics); !slices.Equal(got, []string{"error link-outside-repo src:1:1"}) {
		t.Fatalf("rootDir link: %v", got)
	}
}

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCheckUnreadableDir(t *testing.T) {
	for _, dir := range []string{filepath.Join(t.TempDir(), "missing"), filepath.Join("testdata", "repos", "valid-10", "kinde.json")} {
		if _, err := Check(context.Background(), dir, Options{}); err == nil {
			t.Errorf("Check(%s): no error", dir)
		}
	}
}

func TestIsWorkflowFile(t *testing.T) {
	for name, want := range map[string]bool{
		"Workflow.ts": true, "m2mWorkflow.ts": true, "PreauthorizationWorkflow.jsx": true, "lowercaseworkflow.js": true,
		"MFAWORKFLOW.TSX": false, "xWorkflow.tsx": true, "blockDisposableEmails.ts": false, "workflow.mjs": false,
		"Workflow.d.ts": false, "typesWorkflow.d.ts": false, "workflows.ts": false, "myWorkflow.test.ts": false,
	} {
		if got := IsWorkflowFile(name); got != want {
			t.Errorf("IsWorkflowFile(%q) = %v, want %v", name, got, want)
		}
	}
}
