export const workflowSettings = {
  id: "b",
  trigger: "user:pre_mfa",
};
export default async function () {}
