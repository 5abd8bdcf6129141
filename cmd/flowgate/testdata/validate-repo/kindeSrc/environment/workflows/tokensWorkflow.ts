import { plan } from "./lib/plan";

export const workflowSettings = {
  id: "tokens",
  trigger: "user:tokens_generation",
  bindings: {
    "kinde.accessToken": {},
    "kinde.mfa": {},
  },
};

export default async function (event: unknown) {
  kinde.accessToken.setCustomClaim("plan", plan());
}
