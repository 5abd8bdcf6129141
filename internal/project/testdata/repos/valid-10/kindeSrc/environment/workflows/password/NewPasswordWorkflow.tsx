import { WorkflowTrigger, invalidateFormField } from "@kinde/infrastructure";

export const workflowSettings = {
  id: "newPassword",
  name: "newPassword workflow",
  trigger: WorkflowTrigger.NewPasswordProvided,
  failurePolicy: { action: "stop" },
  bindings: { "kinde.widget": {} },
};

export default async function handle(event: any) {
  if (event.context.auth.firstPassword.length < 12) invalidateFormField("p_first_password", "Too short");
}
