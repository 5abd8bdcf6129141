import { WorkflowTrigger, denyPlanCancellation } from "@kinde/infrastructure";

export const workflowSettings = {
  id: "planCancellation",
  name: "planCancellation workflow",
  trigger: WorkflowTrigger.PlanCancellationRequest,
  failurePolicy: { action: "stop" },
  bindings: { "kinde.plan": {} },
};

export default async function handle(event: any) {
  denyPlanCancellation("Talk to us first");
}
