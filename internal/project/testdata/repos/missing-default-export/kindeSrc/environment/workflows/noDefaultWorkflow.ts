export const workflowSettings = { id: "noDefault", trigger: "user:pre_mfa" };

export async function handler() {}
