import {
  onUserPreMFA,
  WorkflowSettings,
  WorkflowTrigger,
  setEnforcementPolicy,
  getEnvironmentVariable,
  MFAEnforcementPolicy,
} from "@kinde/infrastructure";
import { retry, counter, label } from "./shared/util";

// A const object typed with a type-only import: the right way to write it.
const MFAPolicy: { [key: string]: MFAEnforcementPolicy } = { Required: "required", Skip: "skip" } as const;

export const workflowSettings: WorkflowSettings = {
  id: "onUserPreMFA",
  trigger: WorkflowTrigger.UserPreMFA,
  failurePolicy: { action: "stop" },
  bindings: { "kinde.env": {}, "kinde.mfa": {} },
};

export default async function Workflow(event: onUserPreMFA) {
  const hours = Number(getEnvironmentVariable("MFA_GRACE_PERIOD_IN_HOURS")?.value) * 3600 * 1000;
  let policy: MFAEnforcementPolicy = MFAPolicy.Required;
  retry(() => {
    const last = new Date(event.context.user.lastMfa ?? 0).getTime();
    policy = last + hours > Date.now() ? MFAPolicy.Skip : MFAPolicy.Required;
  });
  const it = counter();
  console.log(label(2), it.next().value, Math.max(1, 2), Symbol.iterator in [], [1, 2].at(-1), undefined, NaN);
  setEnforcementPolicy(policy);
}
