// Asks a policy service whether MFA is required, and logs its banner.
export const workflowSettings = {
  id: "preMfa",
  trigger: "user:pre_mfa",
  bindings: { "kinde.mfa": {}, "kinde.fetch": {} },
};

export default async function (event: any) {
  const user = event.context.user.id;
  const policy = await kinde.fetch(`https://policy.example.com/v1/mfa?user=${user}`, {
    method: "GET",
    headers: { accept: "application/json" },
  });
  if (!policy.ok) {
    throw new Error(`policy service answered ${policy.status}`);
  }
  kinde.mfa.setEnforcementPolicy(policy.json.required ? "required" : "skip");
  const banner = await kinde.fetch("https://policy.example.com/v1/banner", { method: "GET", responseFormat: "text" });
  console.log(banner.text);
}

declare const kinde: any;
