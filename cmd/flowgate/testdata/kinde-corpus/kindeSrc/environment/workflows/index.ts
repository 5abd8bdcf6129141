// A barrel for other modules and tests.
export { workflowSettings as passwordPolicySettings } from "./passwordPolicyWorkflow";
export { workflowSettings } from "./tokensWorkflow";
export * from "./shared";
