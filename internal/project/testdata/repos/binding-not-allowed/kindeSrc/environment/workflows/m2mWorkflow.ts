export const workflowSettings = {
  id: "m2m",
  trigger: "m2m:token_generation",
  bindings: {
    "kinde.m2mToken": {},
    "kinde.accessToken": {},
    console: {},
  },
};
export default async function () {}
