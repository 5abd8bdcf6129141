import { WorkflowTrigger, invalidateFormField } from "@kinde/infrastructure";

export const workflowSettings = {
  id: "checkPassword",
  name: "checkPassword workflow",
  trigger: WorkflowTrigger.ExistingPasswordProvided,
  failurePolicy: { action: "stop" },
  bindings: { "kinde.widget": {} },
};

export default async function handle(event: any) {
  if (!event.context.auth.password) invalidateFormField("p_password", "Required");
}
