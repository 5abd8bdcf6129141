export const workflowSettings = {
  name: "No id",
  trigger: "user:pre_mfa",
};
export default async function () {}
