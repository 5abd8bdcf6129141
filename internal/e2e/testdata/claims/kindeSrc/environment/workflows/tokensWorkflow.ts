import {
  onUserTokenGeneratedEvent,
  WorkflowSettings,
  WorkflowTrigger,
  accessTokenCustomClaims,
  idTokenCustomClaims,
  getEnvironmentVariable,
} from "@kinde/infrastructure";

export const workflowSettings: WorkflowSettings = {
  id: "tokens",
  trigger: WorkflowTrigger.UserTokenGeneration,
  bindings: { "kinde.accessToken": {}, "kinde.idToken": {}, "kinde.env": {} },
};

export default async function (event: onUserTokenGeneratedEvent) {
  const access = accessTokenCustomClaims<{ plan: string; region: string; roles: string[] }>();
  access.plan = getEnvironmentVariable("PLAN")?.value ?? "free";
  access.region = "eu";
  access.roles = ["admin", "billing"];
  const id = idTokenCustomClaims<{ displayName: string }>();
  id.displayName = `user ${event.context.user.id}`;
  const secret = getEnvironmentVariable("API_SECRET");
  console.log("secret is", secret?.value, "secret flag", secret?.isSecret);
  console.log("missing is", getEnvironmentVariable("NOPE"));
}
