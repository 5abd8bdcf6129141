// Adds the user's plan and the sign-in origin to the access token, with
// Kinde's own helper package: Flowgate installs @kinde/infrastructure from
// the npm registry on every sync, so the repository needs no node_modules.
import {
  accessTokenCustomClaims,
  getEnvironmentVariable,
  WorkflowTrigger,
} from "@kinde/infrastructure";

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
  trigger: WorkflowTrigger.UserTokenGeneration,
  failurePolicy: { action: "stop" },
  bindings: {
    "kinde.accessToken": {},
    "kinde.env": {},
  },
};

export default async function addClaims(event: TokensEvent) {
  const claims = accessTokenCustomClaims<{ plan: string; signInOrigin: string; org: string }>();
  claims.plan = getEnvironmentVariable("DEFAULT_PLAN")?.value ?? "free";
  claims.signInOrigin = event.context.auth.origin;
  if (event.context.organization) {
    claims.org = event.context.organization.code;
  }
  console.log(`claims added for ${event.context.user.id}`);
}
