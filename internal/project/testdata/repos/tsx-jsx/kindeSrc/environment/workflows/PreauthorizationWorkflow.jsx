export const workflowSettings = { id: "preauth", trigger: "user:pre_registration" };
export default async function handle(event) {}
