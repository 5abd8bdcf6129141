export const workflowSettings = {
  id: "env",
  trigger: "user:pre_mfa",
  bindings: {
    "kinde.envv": {},
    "kinde.cache": {},
  },
};
export default async function () {}
