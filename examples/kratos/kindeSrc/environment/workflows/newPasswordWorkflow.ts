// Asks for a digit in every new password. The message shows on Kratos'
// password field.
type NewPasswordEvent = { context: { auth: { firstPassword: string } } };

export const workflowSettings = {
  id: "newPassword",
  name: "Passwords need a digit",
  trigger: "user:new_password_provided",
  failurePolicy: { action: "stop" },
  bindings: { "kinde.widget": {} },
};

export default async function newPassword(event: NewPasswordEvent) {
  if (!/[0-9]/.test(event.context.auth.firstPassword)) {
    kinde.widget.invalidateFormField("p_first_password", "Add at least one digit to your password.");
  }
}

declare const kinde: { widget: { invalidateFormField(field: string, message: string): void } };
