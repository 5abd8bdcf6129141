export const workflowSettings = {
  id: "preMfa",
  trigger: "user:pre_mfa",
  bindings: { "kinde.mfa": {} },
};

export default async function () {
  kinde.mfa.setEnforcementPolicy("required");
}

declare const kinde: any;
