// A barrel: re-exports a workflow's settings for other modules (issue 18.4).
export { workflowSettings } from "./postAuthWorkflow";
export { workflowSettings as postAuthSettings, default as postAuth } from "./postAuthWorkflow";
