export default async function () {}

export { workflowSettings };
const workflowSettings = { id: "billing", trigger: "user:tokens_generation" };
