export const workflowSettings: unknown;
