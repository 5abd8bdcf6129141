// Asks a policy service (reached with kinde.fetch) whether MFA is required.
export const workflowSettings = {
  id: "preMfa",
  trigger: "user:pre_mfa",
  bindings: { "kinde.mfa": {}, "kinde.fetch": {} },
};

export default async function (event: any) {
  const base = event.context.policyUrl;
  const r = await kinde.fetch(`${base}/policy?user=${event.context.user.id}`, { method: "GET" });
  kinde.mfa.setEnforcementPolicy(r.json.mfa);
}

declare const kinde: any;
