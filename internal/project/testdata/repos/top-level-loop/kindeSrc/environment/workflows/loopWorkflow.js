export const workflowSettings = { id: "loop", trigger: "user:pre_mfa" };
while (true) {}
export default async function () {}
