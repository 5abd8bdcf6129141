import {
  WorkflowTrigger,
  setEnforcementPolicy,
  type MFAEnforcementPolicy,
} from "@kinde/infrastructure";
import { graceHours } from "./lib/grace";

// A type alias, not a value: MFAPolicy.Required below is undefined at run time.
type MFAPolicy = { Required: MFAEnforcementPolicy; Skip: MFAEnforcementPolicy };

export const workflowSettings = {
  id: "gracePeriod",
  trigger: WorkflowTrigger.UserPreMFA,
  bindings: { "kinde.mfa": {} },
};

export default async function () {
  const policy: MFAEnforcementPolicy = graceHours() > 0 ? MFAPolicy.Skip : MFAPolicy.Required;
  setEnforcementPolicy(policy);
}
