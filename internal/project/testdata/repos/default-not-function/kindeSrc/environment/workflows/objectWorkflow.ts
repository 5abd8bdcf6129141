export const workflowSettings = { id: "object", trigger: "user:pre_mfa" };

export default { run() {} };
