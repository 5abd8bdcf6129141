import { WorkflowTrigger, accessTokenCustomClaims, idTokenCustomClaims, getEnvironmentVariable } from "@kinde/infrastructure";

export const workflowSettings = {
  id: "enrichTokens",
  name: "enrichTokens workflow",
  trigger: WorkflowTrigger.UserTokenGeneration,
  failurePolicy: { action: "stop" },
  bindings: { "kinde.accessToken": {}, "kinde.idToken": {}, "kinde.env": {} },
};

export default async function handle(event: any) {
  const a = accessTokenCustomClaims<{ plan: string }>();
  a.plan = getEnvironmentVariable("PLAN")?.value ?? "free";
  idTokenCustomClaims<{ team: string }>().team = "core";
}
