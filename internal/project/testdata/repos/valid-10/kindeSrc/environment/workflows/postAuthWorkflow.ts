import { WorkflowTrigger, denyAccess } from "@kinde/infrastructure";

export const workflowSettings = {
  id: "checkSignIn",
  name: "checkSignIn workflow",
  trigger: WorkflowTrigger.PostAuthentication,
  failurePolicy: { action: "stop" },
  bindings: { "kinde.auth": {} },
};

export default async function handle(event: any) {
  if (event.context.auth.isNewUserRecordCreated) denyAccess("closed");
}
