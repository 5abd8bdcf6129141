// The benchmark workflow: the real @kinde/infrastructure helper sets three
// access-token claims from the event, as a typical claims workflow does.
import {
  onUserTokenGeneratedEvent,
  WorkflowSettings,
  WorkflowTrigger,
  accessTokenCustomClaims,
} from "@kinde/infrastructure";

export const workflowSettings: WorkflowSettings = {
  id: "benchClaims",
  name: "Benchmark: three access-token claims",
  trigger: WorkflowTrigger.UserTokenGeneration,
  bindings: { "kinde.accessToken": {} },
};

export default async function (event: onUserTokenGeneratedEvent) {
  const claims = accessTokenCustomClaims<{ userId: string; org: string; origin: string }>();
  claims.userId = event.context.user.id;
  claims.org = event.context.organization?.code ?? "none";
  claims.origin = event.context.auth.origin;
}
