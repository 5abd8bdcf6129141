// A syntax error on line 10: the test must name it, not only say the trigger is missing.
export const workflowSettings = {
  id: "tokens",
  trigger: "user:tokens_generation",
};

export default async function (event: any) {
  const plan = "free";
  const claims = { plan: plan, };;
  kinde.accessToken.setCustomClaim("plan", plan +);
}
