export const workflowSettings = {
  trigger: "user:pre_mfa",
  id: "../../escape",
};
export default async function () {}
