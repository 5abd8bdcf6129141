// Adds the user's plan and the sign-in origin to the access token.
// Written against the low-level kinde.* API, so it needs no npm packages.
type TokensEvent = {
  request: { ip: string };
  context: {
    user: { id: string };
    auth: { origin: string };
    organization?: { code: string };
  };
};

export const workflowSettings = {
  id: "addClaims",
  name: "Add claims to the access token",
  trigger: "user:tokens_generation",
  failurePolicy: { action: "stop" },
  bindings: {
    "kinde.accessToken": {},
    "kinde.env": {},
  },
};

export default async function addClaims(event: TokensEvent) {
  const plan = kinde.env.get("DEFAULT_PLAN")?.value ?? "free";
  kinde.accessToken.setCustomClaim("plan", plan);
  kinde.accessToken.setCustomClaim("signInOrigin", event.context.auth.origin);
  if (event.context.organization) {
    kinde.accessToken.setCustomClaim("org", event.context.organization.code);
  }
  console.log(`claims added for ${event.context.user.id}`);
}

declare const kinde: {
  env: { get(name: string): { value: string; isSecret: boolean } | undefined };
  accessToken: { setCustomClaim(name: string, value: unknown): void };
};
