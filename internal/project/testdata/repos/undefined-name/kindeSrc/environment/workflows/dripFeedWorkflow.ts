import {
  onExistingPasswordProvidedEvent,
  WorkflowSettings,
  WorkflowTrigger,
  invalidateFormField,
} from "@kinde/infrastructure";

export const workflowSettings: WorkflowSettings = {
  id: "dripFeed",
  trigger: WorkflowTrigger.ExistingPasswordProvided,
  bindings: { "kinde.widget": {}, "kinde.fetch": {}, "kinde.env": {}, url: {} },
};

export default async function Workflow(event: onExistingPasswordProvidedEvent) {
  try {
    // createKindeAPI is used but never imported: the catch below hides it.
    const api = await createKindeAPI(event);
    await api.post({ endpoint: "user" });
  } catch (error) {
    invalidateFormField("p_password", "try again");
  }
}
