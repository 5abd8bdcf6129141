package project

import "github.com/flowgate/flowgate/internal/bundle"

// Rule ids: stable, documented, shared by every renderer (DESIGN.md).
const (
	RuleNoWorkflows          = "no-workflows"
	RuleUnknownTrigger       = "unknown-trigger"
	RuleDuplicateTrigger     = "duplicate-trigger"
	RuleDuplicateID          = "duplicate-id"
	RuleMissingOutputBundle  = bundle.RuleMissingOutputBundle
	RuleMissingKindeJSON     = "missing-kinde-json"
	RuleInvalidKindeJSON     = "invalid-kinde-json"
	RuleMissingSettings      = "missing-settings"
	RuleMissingID            = "missing-id"
	RuleInvalidID            = "invalid-id"
	RuleMissingTrigger       = "missing-trigger"
	RuleMissingDefaultExport = "missing-default-export"
	RuleBuildError           = bundle.RuleBuildError
	RuleUnknownBinding       = "unknown-binding"
	RuleBindingNotAllowed    = "binding-not-allowed"
	RuleTopLevelError        = "top-level-error"
	RuleLinkOutsideRepo      = "link-outside-repo"
	RuleInvalidFailurePolicy = "invalid-failure-policy" // warning
	RuleUndeclaredBinding    = "undeclared-binding"     // warning
)

// Rules lists every rule id this package can report.
var Rules = []string{
	RuleNoWorkflows, RuleUnknownTrigger, RuleDuplicateTrigger, RuleDuplicateID, RuleMissingOutputBundle,
	RuleMissingKindeJSON, RuleInvalidKindeJSON, RuleMissingSettings, RuleMissingID, RuleInvalidID,
	RuleMissingTrigger, RuleMissingDefaultExport, RuleBuildError, RuleUnknownBinding, RuleBindingNotAllowed,
	RuleTopLevelError, RuleLinkOutsideRepo, RuleInvalidFailurePolicy, RuleUndeclaredBinding,
}
