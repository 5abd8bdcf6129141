import { WorkflowSettings, WorkflowTrigger } from "@kinde/infrastructure";

export const workflowSettings: WorkflowSettings = {
  id: "m2m",
  trigger: WorkflowTrigger.M2MTokenGeneration,
  bindings: {
    "kinde.m2mToken": {},
    "kinde.mfa": {},
  },
};

export default async function m2m(event: any) {
  kinde.m2mToken.setCustomClaim("client", event.context?.application?.clientId ?? "unknown");
}

declare const kinde: any;
