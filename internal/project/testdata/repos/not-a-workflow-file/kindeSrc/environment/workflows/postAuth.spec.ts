// A test file: exports its own settings for a case, never to be discovered.
export const workflowSettings = { id: "specCase", trigger: "user:post_authentication" };
