export const workflowSettings = {
  id: "c",
  trigger: "user:pre_mfa",
};
export default async function () {}
