export const workflowSettings = { id: "x", trigger: "user:pre_registration" };
export default async function () {}
