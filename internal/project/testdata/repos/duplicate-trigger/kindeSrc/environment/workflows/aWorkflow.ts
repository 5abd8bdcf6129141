export const workflowSettings = {
  id: "a",
  trigger: "user:pre_mfa",
};
export default async function () {}
