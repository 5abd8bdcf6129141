// A shared module: it mentions workflowSettings but exports no such name.
export const defaults = { failurePolicy: { action: "stop" } };
export type Settings = { workflowSettings?: unknown };
