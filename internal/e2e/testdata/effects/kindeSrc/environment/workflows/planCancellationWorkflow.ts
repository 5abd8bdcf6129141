import { WorkflowSettings, WorkflowTrigger, denyPlanCancellation } from "@kinde/infrastructure";

export const workflowSettings: WorkflowSettings = {
  id: "planCancellation",
  trigger: WorkflowTrigger.PlanCancellationRequest,
  bindings: { "kinde.plan": {} },
};

export default async function (event: any) {
  denyPlanCancellation(`Plan ${event.context.billing.currentPlanCode} has an open invoice`);
}
