export const workflowSettings = {
  id: "userTokens",
  trigger: "user:tokens_generation",
  bindings: { "kinde.accessToken": { resetClaims: true } },
};

export default async function (event: unknown) {
  kinde.accessToken.setCustomClaim("plan", "pro");
}
