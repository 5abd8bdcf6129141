import { WorkflowSettings, WorkflowTrigger, secureFetch } from "@kinde/infrastructure";

export const workflowSettings: WorkflowSettings = {
  id: "secure",
  trigger: WorkflowTrigger.ExistingPasswordProvided,
  bindings: { "kinde.secureFetch": {}, "kinde.widget": {}, url: {} },
};

export default async function (event: any) {
  const { data } = await secureFetch(`${event.context.serviceUrl}/migrate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: { email: event.context.auth.providedEmail, password: event.context.auth.password } as any,
  });
  console.log(`migrated ${data.migrated} with ${event.context.auth.password}`);
}
