import { onPostAuthenticationEvent, WorkflowSettings, WorkflowTrigger } from "@kinde/infrastructure";

export const workflowSettings: WorkflowSettings = {
  id: "postAuthentication",
  name: "Workflow 1",
  trigger: WorkflowTrigger.PostAuthentication,
  failurePolicy: { action: "stop" },
  bindings: {},
};

export default async function Workflow(event: onPostAuthenticationEvent) {
  console.log("Hello, world!", event.context.user.id);
}
