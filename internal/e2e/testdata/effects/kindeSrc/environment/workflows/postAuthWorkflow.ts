import { onPostAuthenticationEvent, WorkflowSettings, WorkflowTrigger, denyAccess } from "@kinde/infrastructure";

export const workflowSettings: WorkflowSettings = {
  id: "postAuth",
  trigger: WorkflowTrigger.PostAuthentication,
  bindings: { "kinde.auth": {} },
};

export default async function (event: onPostAuthenticationEvent) {
  if (!event.context.auth.isNewUserRecordCreated) {
    denyAccess("existing users must use SSO");
  }
}
