package diag

import "fmt"

// Rule ids: stable, shared by every renderer and every package that
// reports a problem (docs/architecture.md, "The contracts"). The table
// below is the one place a rule's severity and meaning are written down.
const (
	RuleNoWorkflows          = "no-workflows"
	RuleUnknownTrigger       = "unknown-trigger"
	RuleDuplicateTrigger     = "duplicate-trigger"
	RuleDuplicateID          = "duplicate-id"
	RuleMissingOutputBundle  = "missing-output-bundle"
	RuleMissingKindeJSON     = "missing-kinde-json"
	RuleInvalidKindeJSON     = "invalid-kinde-json"
	RuleMissingSettings      = "missing-settings"
	RuleMissingID            = "missing-id"
	RuleInvalidID            = "invalid-id"
	RuleMissingTrigger       = "missing-trigger"
	RuleMissingDefaultExport = "missing-default-export"
	RuleBuildError           = "build-error"
	RuleUnknownBinding       = "unknown-binding"
	RuleBindingNotAllowed    = "binding-not-allowed"
	RuleTopLevelError        = "top-level-error"
	RuleLinkOutsideRepo      = "link-outside-repo"
	RuleInvalidFailurePolicy = "invalid-failure-policy"
	RuleUndeclaredBinding    = "undeclared-binding"
	RuleNotAWorkflowFile     = "not-a-workflow-file"
	RuleUndefinedName        = "undefined-name"
	RuleBuildCrashed         = "build-crashed"
	RuleInvalidDiffPolicy    = "invalid-diff-policy"
	RuleSyncKilled           = "sync-killed-process"
	RuleSyncFailed           = "sync-failed"
)

// Rule is one entry of the rule table.
type Rule struct {
	ID string
	// Severity is the severity every diagnostic of the rule has (Error
	// fails the sync, Warning does not), except the case Lenient names.
	Severity string
	// Lenient, when set, is the one case reported as a warning although
	// the rule is an error (see Lenient the function).
	Lenient string
	// Service marks a rule only the service reports (a sync's own
	// failure), documented in docs/operations.md rather than docs/cli.md.
	Service bool
	Doc     string
}

// Rules is every rule id Flowgate reports, with its severity and meaning.
// Adding a rule: a line here, the code that reports it (diag.New), and a
// test case that expects it.
var Rules = []Rule{
	{ID: RuleNoWorkflows, Severity: Error, Doc: "no workflow file under <rootDir>/environment/workflows (at kinde.json's rootDir)"},
	{ID: RuleUnknownTrigger, Severity: Error, Doc: "trigger is not one of workflow.Triggers, or is undefined (a misspelt WorkflowTrigger member)"},
	{ID: RuleDuplicateTrigger, Severity: Error, Doc: "several workflows share a trigger (one diagnostic per file, naming the others), or a workflow no longer in the repository still serves it"},
	{ID: RuleDuplicateID, Severity: Error, Doc: "several workflows share an id; one diagnostic per file, naming the others"},
	{ID: RuleMissingOutputBundle, Severity: Error, Doc: "the bundle is empty (the file has no code)"},
	{ID: RuleMissingKindeJSON, Severity: Error, Doc: "no kinde.json at the repository root (reported at kinde.json:1:1)"},
	{ID: RuleInvalidKindeJSON, Severity: Error, Doc: "kinde.json is not JSON, not an object, has a bad rootDir/integrations, or lacks version"},
	{ID: RuleMissingSettings, Severity: Error, Doc: "no workflowSettings export, or it is not an object"},
	{ID: RuleMissingID, Severity: Error, Doc: "workflowSettings.id is absent or not a non-empty string"},
	{ID: RuleInvalidID, Severity: Error, Doc: "the id is not 1-128 letters, digits, '_', '-', '.' (it names build files and URLs)"},
	{ID: RuleMissingTrigger, Severity: Error, Doc: "workflowSettings has no trigger key"},
	{ID: RuleMissingDefaultExport, Severity: Error, Doc: "the default export is neither a function nor an object with a handle method"},
	{ID: RuleBuildError, Severity: Error, Doc: "esbuild failed (syntax, unresolved import, top-level await, size limit), goja cannot parse the bundle, or an imported package cannot be installed"},
	{ID: RuleUnknownBinding, Severity: Error, Lenient: `"kinde.cache" (it comes with kinde.fetch or kinde.secureFetch: the message says to declare kinde.fetch)`,
		Doc: "a bindings key that is not a Flowgate binding"},
	{ID: RuleBindingNotAllowed, Severity: Warning, Doc: "a binding the trigger does not allow (workflow.Allowed); it is left undefined, as on Kinde, so code that declares kinde.mfa on every trigger deploys"},
	{ID: RuleTopLevelError, Severity: Error, Doc: "the top-level code threw, ran over SettingsTimeout or overflowed the stack while settings were read"},
	{ID: RuleLinkOutsideRepo, Severity: Error, Doc: "a symbolic link under the workflows folder (or the folder itself), or an import, leads outside the repository"},
	{ID: RuleInvalidFailurePolicy, Severity: Warning, Doc: `failurePolicy.action is not "stop" or "continue" (treated as "stop")`},
	{ID: RuleUndeclaredBinding, Severity: Warning, Doc: "the workflow's own code uses kinde.X (or an @kinde/infrastructure helper that calls it) without declaring it; reported once per file and binding, at the first use"},
	{ID: RuleNotAWorkflowFile, Severity: Warning, Doc: `a file under the workflows folder exports workflowSettings but is not discovered, because its name does not end in "Workflow"; the message gives the name to use`},
	{ID: RuleUndefinedName, Severity: Warning, Doc: "the workflow's own code uses a name that is neither declared, imported nor a sandbox global (a missing import, fetch instead of kinde.fetch, a TypeScript type used as a value); it throws ReferenceError when that line runs. Once per file and name"},
	{ID: RuleBuildCrashed, Severity: Error, Doc: "the builder process that parses the repository (bundling, settings, analysis) died: it crashed, ran past its CPU time or deadline, or grew past its memory ceiling; located in the file being read when it died. A repository whose builds keep crashing builders is quarantined and says so"},
	{ID: RuleInvalidDiffPolicy, Severity: Error, Doc: "kinde.json's \"flowgate\" key is not an object, or flowgate.behaviourDiff is not an object with maxDecisionsChangedPercent/maxChangedPercent numbers from 0 to 100 and nothing else (the pull-request behaviour diff policy)"},
	{ID: RuleSyncKilled, Severity: Error, Service: true, Doc: "the sync's runs died with their process too many times: it fails for good and is not retried"},
	{ID: RuleSyncFailed, Severity: Error, Service: true, Doc: "the sync failed without a located error; the check run says why on kinde.json"},
}

// rulesByID indexes Rules.
var rulesByID = func() map[string]Rule {
	m := make(map[string]Rule, len(Rules))
	for _, r := range Rules {
		m[r.ID] = r
	}
	return m
}()

// RuleByID returns the table entry of id.
func RuleByID(id string) (Rule, bool) {
	r, ok := rulesByID[id]
	return r, ok
}

// New builds a diagnostic of rule with the severity the table gives it.
// A rule missing from the table is an error (TestEveryReportedRuleIsInTheTable
// keeps the code from reporting one).
func New(rule, file string, line, col int, format string, args ...any) Diagnostic {
	sev := Error
	if r, ok := rulesByID[rule]; ok {
		sev = r.Severity
	}
	return Diagnostic{Severity: sev, Rule: rule, File: file, Line: line, Column: col, Message: fmt.Sprintf(format, args...)}
}

// Lenient returns d as a warning when its rule documents a lenient case
// (Rule.Lenient); any other diagnostic is returned unchanged.
func Lenient(d Diagnostic) Diagnostic {
	if r, ok := rulesByID[d.Rule]; ok && r.Lenient != "" {
		d.Severity = Warning
	}
	return d
}
