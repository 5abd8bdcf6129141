export const workflowSettings = {
  id: "tokens",
  trigger: "user:token_generation",
};
export default async function () {}
