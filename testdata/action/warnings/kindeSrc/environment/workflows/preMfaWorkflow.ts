// Requires MFA for every sign-in.
export const workflowSettings = {
  id: "alwaysMfa",
  trigger: "user:pre_mfa",
  bindings: { "kinde.mfa": {} },
};

export default async function () {
  kinde.mfa.setEnforcementPolicy("required");
}

declare const kinde: any;
