import { WorkflowTrigger, setEnforcementPolicy } from "@kinde/infrastructure";

export const workflowSettings = {
  id: "requireMfa",
  name: "requireMfa workflow",
  trigger: WorkflowTrigger.UserPreMFA,
  failurePolicy: { action: "stop" },
  bindings: { "kinde.mfa": {} },
};

export default async function handle(event: any) {
  setEnforcementPolicy("required");
}
