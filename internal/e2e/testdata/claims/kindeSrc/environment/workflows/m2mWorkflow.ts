import { onM2MTokenGeneratedEvent, WorkflowSettings, WorkflowTrigger, m2mTokenClaims } from "@kinde/infrastructure";

export const workflowSettings: WorkflowSettings = {
  id: "m2m",
  trigger: WorkflowTrigger.M2MTokenGeneration,
  bindings: { "kinde.m2mToken": {} },
};

export default async function (event: onM2MTokenGeneratedEvent) {
  const claims = m2mTokenClaims<{ client: string; scopes: string[] }>();
  claims.client = event.context.application.clientId;
  claims.scopes = event.request.auth.scope;
}
