import { WorkflowSettings, WorkflowTrigger, accessTokenCustomClaims } from "@kinde/infrastructure";
import { checkOrg } from "../../lib/check";

export const workflowSettings: WorkflowSettings = {
  id: "throws",
  trigger: WorkflowTrigger.UserTokenGeneration,
  bindings: { "kinde.accessToken": {} },
};

type Event = { context: { organization?: { code: string }; fail?: string } };

export default async function (event: Event) {
  if (event.context.fail === "here") {
    throw new RangeError("thrown in the workflow file");
  }
  const claims = accessTokenCustomClaims<{ org: string }>();
  claims.org = checkOrg(event.context.organization?.code);
}
