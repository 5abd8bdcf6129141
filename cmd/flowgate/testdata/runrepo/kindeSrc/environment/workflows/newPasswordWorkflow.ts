export const workflowSettings = {
  id: "newPassword",
  trigger: "user:new_password_provided",
  bindings: { "kinde.widget": {} },
};

export default async function (event: any) {
  const pw = event.context.auth.firstPassword;
  console.log(`checking ${pw}`);
  if (pw.length < 12) {
    kinde.widget.invalidateFormField("p_first_password", "Use at least 12 characters");
  }
}

declare const kinde: any;
