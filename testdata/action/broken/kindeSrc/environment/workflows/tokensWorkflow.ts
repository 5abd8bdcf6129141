// Adds the user's plan to the access token: but "kinde.mfaa" is not a
// binding (a misspelt kinde.mfa), so Flowgate rejects the workflow on line 8.
export const workflowSettings = {
  id: "addPlanClaim",
  trigger: "user:tokens_generation",
  bindings: {
    "kinde.accessToken": {},
    "kinde.mfaa": {},
  },
};

export default async function () {
  kinde.accessToken.setCustomClaim("plan", "pro");
}

declare const kinde: any;
