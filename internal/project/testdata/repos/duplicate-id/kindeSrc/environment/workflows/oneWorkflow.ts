export const workflowSettings = {
  trigger: "user:pre_mfa",
  id: "same",
};
export default async function () {}
