export const workflowSettings = {
  id: "policy",
  trigger: "user:pre_mfa",
  failurePolicy: { action: "warn" },
};
export default async function () {}
