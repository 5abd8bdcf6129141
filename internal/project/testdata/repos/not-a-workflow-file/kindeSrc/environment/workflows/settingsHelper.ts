// A test helper that imports a workflow's settings and re-exports them.
import { workflowSettings } from "./postAuthWorkflow";

export { workflowSettings };
export const triggerUnderTest = workflowSettings.trigger;
