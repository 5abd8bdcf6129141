package project

import "github.com/flowgate/flowgate/internal/bundle"

// Rule ids: stable, shared by every renderer (docs/architecture.md). All are errors
// (the sync fails) except those marked as warnings.
//
//	no-workflows            no workflow file under <rootDir>/environment/workflows (at kinde.json's rootDir)
//	unknown-trigger         trigger is not one of workflow.Triggers, or is undefined (a misspelt WorkflowTrigger member)
//	duplicate-trigger       several workflows share a trigger; one diagnostic per file, naming the others
//	duplicate-id            several workflows share an id; one diagnostic per file, naming the others
//	missing-output-bundle   the bundle is empty (the file has no code)
//	missing-kinde-json      no kinde.json at the repository root (reported at kinde.json:1:1)
//	invalid-kinde-json      kinde.json is not JSON, not an object, has a bad rootDir/integrations, or lacks version
//	invalid-diff-policy     kinde.json's "flowgate" key is not an object, or flowgate.behaviourDiff is not an object
//	                        with maxChangedPercent and/or maxDecisionsChangedPercent, numbers from 0 to 100, and
//	                        nothing else (the pull-request behaviour diff policy)
//	missing-settings        no workflowSettings export, or it is not an object
//	missing-id              workflowSettings.id is absent or not a non-empty string
//	invalid-id              the id is not 1-128 letters, digits, '_', '-', '.' (it names build files and URLs)
//	missing-trigger         workflowSettings has no trigger key
//	missing-default-export  the default export is neither a function nor an object with a handle method
//	build-error             esbuild failed (syntax, unresolved import, top-level await, size limit) or goja cannot parse the bundle
//	unknown-binding         a bindings key that is not a Flowgate binding; a warning for "kinde.cache" (it comes with
//	                        kinde.fetch or kinde.secureFetch: the message says to declare kinde.fetch)
//	binding-not-allowed     warning: a binding the trigger does not allow (workflow.Allowed); it is left undefined,
//	                        as on Kinde, so code that declares kinde.mfa on every trigger deploys
//	top-level-error         the top-level code threw, ran over SettingsTimeout or overflowed the stack while settings were read
//	link-outside-repo       a symbolic link under the workflows folder (or the folder itself) leads outside the repository
//	invalid-failure-policy  warning: failurePolicy.action is not "stop" or "continue" (treated as "stop")
//	undeclared-binding      warning: the workflow's own code uses kinde.X (or an @kinde/infrastructure helper
//	                        that calls it) without declaring it; reported once per file and binding, at the first use
//	not-a-workflow-file     warning: a file under the workflows folder exports workflowSettings but is not discovered,
//	                        because its name does not end in "Workflow"; the message gives the name to use
//	build-crashed           the builder process that parses the repository (bundling, settings, analysis) died:
//	                        it crashed (a parser recursed past its stack), ran past its CPU time or deadline,
//	                        or grew past its memory ceiling; located in the file being read when it died.
//	                        A repository whose builds keep crashing builders is quarantined and says so
//	undefined-name          warning: the workflow's own code uses a name that is neither declared, imported nor a
//	                        sandbox global (a missing import, fetch instead of kinde.fetch, a TypeScript type used
//	                        as a value); it throws ReferenceError when that line runs. Once per file and name
const (
	RuleNoWorkflows          = "no-workflows"
	RuleUnknownTrigger       = "unknown-trigger"
	RuleDuplicateTrigger     = "duplicate-trigger"
	RuleDuplicateID          = "duplicate-id"
	RuleMissingOutputBundle  = bundle.RuleMissingOutputBundle
	RuleMissingKindeJSON     = "missing-kinde-json"
	RuleInvalidKindeJSON     = "invalid-kinde-json"
	RuleInvalidDiffPolicy    = "invalid-diff-policy"
	RuleMissingSettings      = "missing-settings"
	RuleMissingID            = "missing-id"
	RuleInvalidID            = "invalid-id"
	RuleMissingTrigger       = "missing-trigger"
	RuleMissingDefaultExport = "missing-default-export"
	RuleBuildError           = bundle.RuleBuildError
	RuleUnknownBinding       = "unknown-binding"
	RuleBindingNotAllowed    = "binding-not-allowed" // warning
	RuleTopLevelError        = "top-level-error"
	RuleLinkOutsideRepo      = "link-outside-repo"
	RuleInvalidFailurePolicy = "invalid-failure-policy" // warning
	RuleUndeclaredBinding    = "undeclared-binding"     // warning
	RuleNotAWorkflowFile     = "not-a-workflow-file"    // warning
	RuleUndefinedName        = "undefined-name"         // warning
	RuleBuildCrashed         = "build-crashed"
)

// Rules lists every rule id this package can report.
var Rules = []string{
	RuleNoWorkflows, RuleUnknownTrigger, RuleDuplicateTrigger, RuleDuplicateID, RuleMissingOutputBundle,
	RuleMissingKindeJSON, RuleInvalidKindeJSON, RuleMissingSettings, RuleMissingID, RuleInvalidID,
	RuleMissingTrigger, RuleMissingDefaultExport, RuleBuildError, RuleUnknownBinding, RuleBindingNotAllowed,
	RuleTopLevelError, RuleLinkOutsideRepo, RuleInvalidFailurePolicy, RuleUndeclaredBinding,
	RuleNotAWorkflowFile, RuleUndefinedName, RuleBuildCrashed, RuleInvalidDiffPolicy,
}
