import { WorkflowTrigger, denyPlanCancellation } from "@kinde/infrastructure";

export const workflowSettings = {
  id: "denyPlanCancellation",
  trigger: WorkflowTrigger.UserPlanCancellationRequest,
  bindings: { "kinde.plan": {} },
};

export default async function () {
  denyPlanCancellation("Talk to us first");
}
