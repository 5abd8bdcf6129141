import { onUserPreMFA, WorkflowSettings, WorkflowTrigger, setEnforcementPolicy } from "@kinde/infrastructure";

export const workflowSettings: WorkflowSettings = {
  id: "preMfa",
  trigger: WorkflowTrigger.UserPreMFA,
  bindings: { "kinde.mfa": {} },
};

export default async function (event: onUserPreMFA) {
  setEnforcementPolicy(event.context.organization?.code === "org_secure" ? "required" : "skip");
}
