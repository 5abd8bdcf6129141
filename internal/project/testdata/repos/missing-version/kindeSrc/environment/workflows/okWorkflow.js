export const workflowSettings = { id: "ok", trigger: "user:pre_mfa" };
export default async function () {}
