// Adds the user's plan to the access token. It reads kinde.env without
// declaring it in bindings: a warning (undeclared-binding) on line 11, which
// fails the job only because the workflow file sets fail-on-warnings.
export const workflowSettings = {
  id: "addPlanClaim",
  trigger: "user:tokens_generation",
  bindings: { "kinde.accessToken": {} },
};

export default async function () {
  const plan = kinde.env.get("DEFAULT_PLAN")?.value ?? "free";
  kinde.accessToken.setCustomClaim("plan", plan);
}

declare const kinde: any;
