import { WorkflowTrigger, m2mTokenClaims } from "@kinde/infrastructure";

export const workflowSettings = {
  id: "m2mClaims",
  name: "m2mClaims workflow",
  trigger: WorkflowTrigger.M2MTokenGeneration,
  failurePolicy: { action: "stop" },
  bindings: { "kinde.m2mToken": {} },
};

export default async function handle(event: any) {
  m2mTokenClaims<{ tier: string }>().tier = "gold";
}
