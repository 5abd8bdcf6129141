import { WorkflowTrigger, invalidateFormField } from "@kinde/infrastructure";
import { isReserved } from "./lib/reserved";

export const workflowSettings = {
  id: "username",
  trigger: WorkflowTrigger.NewUsernameProvided,
  bindings: { "kinde.widget": {}, console: {} },
};

export default async function (event) {
  const name = event.context.auth.suppliedUsername;
  if (isReserved(name)) invalidateFormField("p_username", "That name is reserved");
  console.log("checked", name);
}
