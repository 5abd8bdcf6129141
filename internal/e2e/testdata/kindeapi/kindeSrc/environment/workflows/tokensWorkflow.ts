import {
  onUserTokenGeneratedEvent,
  WorkflowSettings,
  WorkflowTrigger,
  createKindeAPI,
  accessTokenCustomClaims,
} from "@kinde/infrastructure";

export const workflowSettings: WorkflowSettings = {
  id: "kindeApi",
  trigger: WorkflowTrigger.UserTokenGeneration,
  bindings: { "kinde.accessToken": {}, "kinde.fetch": {}, "kinde.env": {}, url: {} },
};

export default async function (event: onUserTokenGeneratedEvent) {
  const api = await createKindeAPI(event);
  const { data: user } = await api.get({ endpoint: `users?id=${event.context.user.id}` });
  const { data: roles } = await api.get({ endpoint: "roles", params: { page_size: "5" } });
  const claims = accessTokenCustomClaims<{ plan: string; roles: string[] }>();
  claims.plan = user.plan;
  claims.roles = roles.roles;
}
