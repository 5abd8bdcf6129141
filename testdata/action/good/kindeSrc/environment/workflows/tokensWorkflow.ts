// Adds the user's plan to the access token.
export const workflowSettings = {
  id: "addPlanClaim",
  name: "Add plan claim",
  trigger: "user:tokens_generation",
  bindings: { "kinde.accessToken": {} },
};

export default async function () {
  kinde.accessToken.setCustomClaim("plan", "pro");
}

declare const kinde: any;
