// Adds the user's plan to the access token: but kinde.mfa is not allowed
// for this trigger, so Flowgate rejects the workflow on line 8.
export const workflowSettings = {
  id: "addPlanClaim",
  trigger: "user:tokens_generation",
  bindings: {
    "kinde.accessToken": {},
    "kinde.mfa": {},
  },
};

export default async function () {
  kinde.accessToken.setCustomClaim("plan", "pro");
}

declare const kinde: any;
