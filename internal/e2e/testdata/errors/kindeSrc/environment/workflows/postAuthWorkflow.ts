import { WorkflowSettings, WorkflowTrigger, denyAccess } from "@kinde/infrastructure";

// Calls denyAccess without declaring kinde.auth.
export const workflowSettings: WorkflowSettings = {
  id: "noAuth",
  trigger: WorkflowTrigger.PostAuthentication,
  bindings: {},
};

export default async function () {
  denyAccess("nope");
}
