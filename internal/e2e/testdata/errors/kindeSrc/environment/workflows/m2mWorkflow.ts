import { WorkflowSettings, WorkflowTrigger, getEnvironmentVariable, m2mTokenClaims } from "@kinde/infrastructure";

// Uses kinde.env through the library without declaring it.
export const workflowSettings: WorkflowSettings = {
  id: "undeclared",
  trigger: WorkflowTrigger.M2MTokenGeneration,
  bindings: { "kinde.m2mToken": {} },
};

export default async function () {
  const claims = m2mTokenClaims<{ tier: string }>();
  claims.tier = getEnvironmentVariable("TIER")?.value ?? "none";
}
