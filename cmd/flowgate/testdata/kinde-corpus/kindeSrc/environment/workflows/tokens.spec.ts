// A test file: its own settings for a case, never deployed.
export const workflowSettings = { id: "tokensSpec", trigger: "user:tokens_generation" };
