package project

import "github.com/flowgate/flowgate/internal/diag"

// Rule ids the sync rules report. Each one's severity and meaning are in
// diag.Rules, the rule table; these names are kept so callers can write
// project.RuleX beside the package that checks it.
const (
	RuleNoWorkflows          = diag.RuleNoWorkflows
	RuleUnknownTrigger       = diag.RuleUnknownTrigger
	RuleDuplicateTrigger     = diag.RuleDuplicateTrigger
	RuleDuplicateID          = diag.RuleDuplicateID
	RuleMissingOutputBundle  = diag.RuleMissingOutputBundle
	RuleMissingKindeJSON     = diag.RuleMissingKindeJSON
	RuleInvalidKindeJSON     = diag.RuleInvalidKindeJSON
	RuleMissingSettings      = diag.RuleMissingSettings
	RuleMissingID            = diag.RuleMissingID
	RuleInvalidID            = diag.RuleInvalidID
	RuleMissingTrigger       = diag.RuleMissingTrigger
	RuleMissingDefaultExport = diag.RuleMissingDefaultExport
	RuleBuildError           = diag.RuleBuildError
	RuleUnknownBinding       = diag.RuleUnknownBinding
	RuleBindingNotAllowed    = diag.RuleBindingNotAllowed
	RuleTopLevelError        = diag.RuleTopLevelError
	RuleLinkOutsideRepo      = diag.RuleLinkOutsideRepo
	RuleInvalidFailurePolicy = diag.RuleInvalidFailurePolicy
	RuleUndeclaredBinding    = diag.RuleUndeclaredBinding
	RuleNotAWorkflowFile     = diag.RuleNotAWorkflowFile
	RuleUndefinedName        = diag.RuleUndefinedName
	RuleBuildCrashed         = diag.RuleBuildCrashed
	RuleInvalidDiffPolicy    = diag.RuleInvalidDiffPolicy
)

// LiveElsewhere is the duplicate-trigger error for a workflow whose trigger
// is still served by a live workflow, owner, that the repository no longer
// has (the service knows which; the rule and its words live here).
func LiveElsewhere(file, trigger, owner string) diag.Diagnostic {
	return diag.New(RuleDuplicateTrigger, file, 1, 1,
		"trigger %s is already served by workflow %q, which is no longer in the repository but stays live until deleted; delete it in Flowgate, or deactivate it, then sync again",
		trigger, owner)
}
