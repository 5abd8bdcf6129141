import { WorkflowTrigger, denyAccess, createKindeAPI } from "@kinde/infrastructure";

export const workflowSettings = {
  id: "preRegistration",
  name: "preRegistration workflow",
  trigger: WorkflowTrigger.UserPreRegistration,
  failurePolicy: { action: "stop" },
  bindings: { "kinde.auth": {}, "kinde.fetch": {}, "kinde.env": {}, url: {} },
};

export default async function handle(event: any) {
  const api = await createKindeAPI(event);
  const { data } = await api.get({ endpoint: "users" });
  if (!data) denyAccess("no users");
}
