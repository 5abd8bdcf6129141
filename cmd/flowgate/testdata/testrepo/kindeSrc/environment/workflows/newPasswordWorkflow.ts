export const workflowSettings = {
  id: "newPassword",
  trigger: "user:new_password_provided",
  bindings: { "kinde.widget": {}, "kinde.env": {} },
};

export default async function (event: any) {
  const pw: string = event.context.auth.firstPassword;
  const min = Number(kinde.env.get("MIN_LENGTH")?.value ?? "12");
  console.log(`checking ${pw} with token ${kinde.env.get("TOKEN")?.value}`);
  if (pw.length < min) {
    kinde.widget.invalidateFormField("p_first_password", `Use at least ${min} characters`);
  }
}

declare const kinde: any;
