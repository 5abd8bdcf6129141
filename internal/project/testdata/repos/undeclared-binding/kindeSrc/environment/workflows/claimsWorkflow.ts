import {
  accessTokenCustomClaims,
  getEnvironmentVariable as env,
  WorkflowTrigger,
  type onUserTokenGeneratedEvent,
} from "@kinde/infrastructure";
import { audit } from "./audit";

export const workflowSettings = {
  id: "claims",
  trigger: WorkflowTrigger.UserTokenGeneration,
  bindings: { "kinde.accessToken": {} },
};

// kinde.idToken in a comment is not a use, nor is "kinde.auth" in a string.
export default async function (event: onUserTokenGeneratedEvent) {
  const claims = accessTokenCustomClaims<{ plan: string }>();
  claims.plan = env("PLAN")?.value ?? "free";
  kinde.idToken.setCustomClaim("plan", claims.plan);
  kinde.mfa.setEnforcementPolicy("required");
  audit(`${kinde.cache ? "cached" : "no cache"}`);
}
