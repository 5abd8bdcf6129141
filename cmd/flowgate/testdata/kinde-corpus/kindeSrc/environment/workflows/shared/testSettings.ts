// A test helper that re-exports a workflow's settings.
import { workflowSettings } from "../m2mWorkflow";

export { workflowSettings };
export const m2mTrigger = workflowSettings.trigger;
