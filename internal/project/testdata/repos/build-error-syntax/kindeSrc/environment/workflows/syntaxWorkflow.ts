export const workflowSettings = { id: "syntax", trigger: "user:pre_mfa" };

export default async function () {
  const x = {;
}
