import { onPlanSelection, WorkflowSettings, WorkflowTrigger, denyPlanSelection } from "@kinde/infrastructure";

export const workflowSettings: WorkflowSettings = {
  id: "planSelection",
  trigger: WorkflowTrigger.PlanSelection,
  bindings: { "kinde.plan": {} },
};

export default async function (event: onPlanSelection) {
  if (event.context.billing.requestedPlanCode === "legacy") {
    denyPlanSelection("The legacy plan is closed", ["Choose pro", "Choose team"]);
  }
}
