const config = await Promise.resolve({ id: "await" });

export const workflowSettings = { id: config.id, trigger: "user:pre_mfa" };
export default async function () {}
