// Adds a plan claim to user tokens (authorization code and refresh) and
// refuses tokens for a blocked subject.
type TokensEvent = {
  context: { user: { id: string }; auth: { origin: string }; application: { clientId: string } };
};

export const workflowSettings = {
  id: "userClaims",
  name: "Add the plan to user tokens",
  trigger: "user:tokens_generation",
  failurePolicy: { action: "stop" },
  bindings: { "kinde.accessToken": {}, "kinde.idToken": {}, "kinde.auth": {} },
};

export default async function userClaims(event: TokensEvent) {
  if (event.context.user.id === "blocked-user") {
    kinde.auth.denyAccess("This account is blocked.");
    return;
  }
  kinde.accessToken.setCustomClaim("plan", "pro");
  kinde.idToken.setCustomClaim("signed_in_with", event.context.auth.origin);
}

declare const kinde: {
  accessToken: { setCustomClaim(name: string, value: unknown): void };
  idToken: { setCustomClaim(name: string, value: unknown): void };
  auth: { denyAccess(reason: string): void };
};
