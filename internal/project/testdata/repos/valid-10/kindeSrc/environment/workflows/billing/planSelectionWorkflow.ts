import { WorkflowTrigger, denyPlanSelection } from "@kinde/infrastructure";

export const workflowSettings = {
  id: "planSelection",
  name: "planSelection workflow",
  trigger: WorkflowTrigger.PlanSelection,
  failurePolicy: { action: "stop" },
  bindings: { "kinde.plan": {} },
};

export default async function handle(event: any) {
  denyPlanSelection("Not yet", ["Contact sales"]);
}
