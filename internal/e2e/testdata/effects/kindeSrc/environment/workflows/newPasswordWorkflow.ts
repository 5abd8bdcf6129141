import { onNewPasswordProvidedEvent, WorkflowSettings, WorkflowTrigger, invalidateFormField } from "@kinde/infrastructure";

export const workflowSettings: WorkflowSettings = {
  id: "newPassword",
  trigger: WorkflowTrigger.NewPasswordProvided,
  bindings: { "kinde.widget": {} },
};

export default async function (event: onNewPasswordProvidedEvent) {
  const { firstPassword, secondPassword } = event.context.auth;
  console.log(`first=${firstPassword} second=${secondPassword}`);
  if (!/[0-9]/.test(firstPassword)) {
    invalidateFormField("p_first_password", "Include a digit");
  }
}
