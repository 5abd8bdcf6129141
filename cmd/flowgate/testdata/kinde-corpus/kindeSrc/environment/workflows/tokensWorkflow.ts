import { WorkflowSettings, WorkflowTrigger } from "@kinde/infrastructure";
import { riskLevel } from "./shared";

export const workflowSettings: WorkflowSettings = {
  id: "tokens",
  trigger: WorkflowTrigger.UserTokenGeneration,
  bindings: {
    "kinde.accessToken": {},
    "kinde.mfa": {},
  },
};

export default async function tokens(event: any) {
  kinde.accessToken.setCustomClaim("risk", riskLevel(event));
  if (event.context?.wantIdClaim) {
    kinde.idToken.setCustomClaim("risk", riskLevel(event)); // a latent bug: kinde.idToken is not declared
  }
}

declare const kinde: any;
