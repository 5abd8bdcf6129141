import { WorkflowSettings, WorkflowTrigger } from "@kinde/infrastructure";
import { riskLevel } from "./shared";

export const workflowSettings: WorkflowSettings = {
  id: "postAuth",
  trigger: WorkflowTrigger.PostAuthentication,
  bindings: {
    "kinde.auth": {},
    "kinde.env": {},
    "kinde.mfa": {},
  },
};

// Node-friendly code the Kinde runtime also runs: the guard keeps it safe.
const region = typeof process !== "undefined" && process.env ? process.env.REGION : undefined;

export default async function postAuth(event: any) {
  const limit = kinde.env.get("BLOCKED_COUNTRY")?.value;
  if (riskLevel(event) === "high" && event.request?.country === limit) {
    kinde.auth.denyAccess("Sign-in from this country is not allowed" + (region ? ` (${region})` : ""));
  }
}

declare const kinde: any;
