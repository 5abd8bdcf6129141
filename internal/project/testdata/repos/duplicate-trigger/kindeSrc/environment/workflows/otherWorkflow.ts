export const workflowSettings = { id: "other", trigger: "user:plan_selection" };
export default async function () {}
